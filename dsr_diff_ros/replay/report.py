"""Report of a replay: ``replay.json`` + ``report.md`` + PNG figures (side-by-side colourised depth, error maps,
per-frame RMSE, latency histogram)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..evaluation.report import _jsonable
from .quality import column

COLUMNS = [  # (key, header, scale, format)
    ("rmse", "RMSE [cm]", 100, "{:.2f}"), ("mae", "MAE [cm]", 100, "{:.2f}"), ("absrel", "AbsRel", 1, "{:.4f}"),
    ("delta1", "δ<1.25", 1, "{:.4f}"), ("edge_rmse", "edge RMSE [cm]", 100, "{:.2f}"),
    ("sc_rmse", "self-cons. RMSE [cm]", 100, "{:.2f}"), ("temporal", "temporal Δ [mm]", 1000, "{:.2f}"),
    ("valid_gain", "valid gain [%]", 100, "{:+.1f}"), ("latency_ms", "latency [ms]", 1, "{:.1f}"),
]
GT_KEYS = ("rmse", "mae", "absrel", "delta1", "edge_rmse")


def _fmt(v, scale, fmt) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return fmt.format(v * scale)


def metrics_table(summary: dict, has_gt: bool) -> str:
    """Markdown table: one row per method, the replay metrics as columns."""
    cols = [c for c in COLUMNS if has_gt or c[0] not in GT_KEYS]
    lines = ["| method | frames | " + " | ".join(c[1] for c in cols) + " |",
             "|---|---:|" + "---:|" * len(cols)]
    for name, s in summary.items():
        lines.append(f"| {name} | {s['n_frames']} | " + " | ".join(_fmt(s.get(k), sc, f) for k, _, sc, f in cols) + " |")
    return "\n".join(lines)


def result_dict(res) -> dict:
    """The JSON-able content of a ReplayResult (no arrays)."""
    return _jsonable({"bag": res.bag, "output_bag": res.out, "input_topics": res.topics,
                      "output_topics": res.output_topics, "frames": res.frames, "pairs": res.pairs,
                      "dropped": res.dropped, "drop_reasons": res.drop_reasons, "interrupted": res.interrupted,
                      "error": res.error, "has_ground_truth": res.has_gt, "summary": res.summary,
                      "timing": res.timing, "config": res.config, "recovery": res.recovery,
                      "per_frame": {k: list(v) for k, v in res.rows.items()}})


def write_report(res, out_dir: str | Path, figures: bool = True) -> dict:
    """Write replay.json, report.md and the figures into ``out_dir``; returns {name: path}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "replay.json", "markdown": out / "report.md"}
    paths["json"].write_text(json.dumps(result_dict(res), indent=1))
    figs = _figures(res, out) if figures and res.frames else {}
    paths.update(figs)
    paths["markdown"].write_text(_markdown(res, figs))
    return {k: str(v) for k, v in paths.items()}


def _markdown(res, figs: dict) -> str:
    t = res.timing or {}
    lines = ["# DSR-Diff replay report", "",
             f"- input bag: `{res.bag}`", f"- output bag: `{res.out}`",
             f"- frames processed: {res.frames} (pairs {res.pairs}, dropped {res.dropped})"
             + (" — **interrupted**" if res.interrupted else "") + (f" — **error**: {res.error}" if res.error else ""),
             *([f"- **damaged input, recovered**: {res.recovery['summary']}"] if res.recovery else []),
             "- topics: " + ", ".join(f"{k} `{v}`" for k, v in res.topics.items() if v),
             "- output topics: " + ", ".join(f"`{v}`" for v in res.output_topics.values()),
             f"- model: `{res.config.get('model_id', '')}` on {res.config.get('device', '')}, "
             f"steps {res.config.get('steps')}", ""]
    if res.config.get("simulate"):
        lines += [f"- simulated low-cost sensor: `{json.dumps(res.config['simulate'])}`", ""]
    if res.summary:
        lines += ["## Metrics (mean over frames)", "", metrics_table(res.summary, res.has_gt), "",
                  "RMSE/MAE/AbsRel/δ/edge RMSE against the ground truth (valid pixels only); self-consistency: "
                  "output area-down-sampled to the input grid vs the input; temporal Δ: mean frame-to-frame change "
                  "of the output where the input is static; valid gain: valid fraction of the output minus that of "
                  "the input; latency per frame.", ""]
    if t:
        lines += ["## Timing", "", "| stage | total [s] |", "|---|---:|"]
        lines += [f"| {k} | {t[k]:.3f} |" for k in ("read", "copy", "decode", "sync", "infer", "write", "eval", "wall")
                  if k in t]
        lines += ["", f"Replay overhead without inference and metrics: {t.get('overhead_ms_per_frame', 0):.1f} ms/frame; "
                  f"inference {t.get('infer_ms_per_frame', 0):.1f} ms/frame.", ""]
    if res.drop_reasons:
        lines += ["## Skipped frames", ""] + [f"- {r}" for r in res.drop_reasons] + [""]
    if figs:
        lines += ["## Figures", ""] + [f"![{k}]({Path(v).name})" for k, v in figs.items()] + [""]
    return "\n".join(lines)


def colorize(depth: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """Depth (m, NaN/0 invalid) -> RGB float image with the turbo colormap, invalid in black."""
    import matplotlib

    cmap = matplotlib.colormaps["turbo"]
    v = np.isfinite(depth) & (np.nan_to_num(depth) > 0)
    x = np.clip((np.nan_to_num(depth) - vmin) / max(vmax - vmin, 1e-6), 0, 1)
    img = cmap(x)[..., :3]
    img[~v] = 0
    return img


def _figures(res, out: Path) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = {}
    f = res.figure
    if f is not None:
        gt = f["gt"]
        ref = gt if gt is not None else f["lr"]
        vals = ref[np.isfinite(ref) & (ref > 0)]
        vmin, vmax = (np.percentile(vals, [1, 99]) if vals.size else (0.0, 5.0))
        panels = [("RGB", f["rgb"] / 255.0), (f"input {f['lr'].shape[1]}x{f['lr'].shape[0]}",
                                               colorize(f["lr"], vmin, vmax))]
        panels += [(k, colorize(v, vmin, vmax)) for k, v in f["outputs"].items()]
        if gt is not None:
            panels.append(("ground truth", colorize(gt, vmin, vmax)))
        fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 2.8))
        for ax, (title, img) in zip(np.atleast_1d(axes), panels):
            ax.imshow(img, interpolation="nearest")
            ax.set_title(title, fontsize=9)
            ax.axis("off")
        fig.suptitle(f"frame {f['index']} (depth {vmin:.2f}–{vmax:.2f} m)", fontsize=10)
        fig.tight_layout()
        paths["side_by_side"] = out / "side_by_side.png"
        fig.savefig(paths["side_by_side"], dpi=90)
        plt.close(fig)
        if gt is not None:
            outs = f["outputs"]
            fig, axes = plt.subplots(1, len(outs), figsize=(3.4 * len(outs), 2.8))
            for ax, (k, v) in zip(np.atleast_1d(axes), outs.items()):
                err = np.abs(v - gt)
                err[~(np.isfinite(gt) & (gt > 0))] = np.nan
                im = ax.imshow(err * 100, cmap="magma", vmin=0, vmax=10)
                ax.set_title(f"|{k} − GT|", fontsize=9)
                ax.axis("off")
            fig.colorbar(im, ax=axes, shrink=0.8, label="cm")
            paths["error_maps"] = out / "error_maps.png"
            fig.savefig(paths["error_maps"], dpi=90)
            plt.close(fig)
    key, label = ("rmse", "RMSE vs ground truth [cm]") if res.has_gt else ("sc_rmse", "self-consistency RMSE [cm]")
    fig, ax = plt.subplots(figsize=(6, 3))
    for name, rows in res.rows.items():
        ax.plot(column(rows, "index"), 100 * column(rows, key), marker="o", ms=3, label=name)
    ax.set_xlabel("frame")
    ax.set_ylabel(label)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    paths["rmse_per_frame"] = out / "rmse_per_frame.png"
    fig.savefig(paths["rmse_per_frame"], dpi=90)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3))
    for name, rows in res.rows.items():
        ax.hist(column(rows, "latency_ms"), bins=20, alpha=0.6, label=name)
    ax.set_xlabel("latency per frame [ms]")
    ax.set_ylabel("frames")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths["latency_hist"] = out / "latency_hist.png"
    fig.savefig(paths["latency_hist"], dpi=90)
    plt.close(fig)
    return paths

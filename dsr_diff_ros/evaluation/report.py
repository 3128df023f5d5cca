"""Reports: Markdown + JSON tables and PNG figures (matplotlib, Agg backend).

write_report(result, out_dir) writes
    results.json       config, per-frame rows, summary, errors, notes
    results.md         summary table per degradation mode (RMSE per scale + latency) and the full metric table
    figures/<dataset>_<frame>_<mode>_x<s>.png        side-by-side colourised depth (shared colour scale)
    figures/<dataset>_<frame>_<mode>_x<s>_err.png    absolute error maps (shared scale)
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

COLUMNS = [("rmse", "RMSE"), ("mae", "MAE"), ("absrel", "AbsRel"), ("delta1", "δ<1.25"), ("delta2", "δ<1.25²"),
           ("delta3", "δ<1.25³"), ("edge_rmse", "edge RMSE"), ("flat_rmse", "flat RMSE"), ("coverage", "coverage"),
           ("time_ms", "ms/frame")]


def _fmt(v, key="") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if key.startswith("delta") or key == "coverage":
        return f"{100 * v:.1f}%"
    if key == "absrel":
        return f"{v:.4f}"
    if key == "time_ms":
        return f"{v:.1f}"
    return f"{v:.2f}"


def _jsonable(o):
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, (np.floating, float)):
        return float(o) if math.isfinite(float(o)) else None
    if isinstance(o, np.integer):
        return int(o)
    return o


def markdown_tables(summary: list[dict], unit: str = "cm") -> str:
    """Compact table per mode (method x scale RMSE / edge RMSE, latency) followed by the full table."""
    out = []
    for mode in dict.fromkeys(r["mode"] for r in summary):
        rs = [r for r in summary if r["mode"] == mode]
        scales = list(dict.fromkeys(r["scale"] for r in rs))
        methods = list(dict.fromkeys(r["method"] for r in rs))
        by = {(r["method"], r["scale"]): r for r in rs}
        hdr = (["method"] + [f"x{s} RMSE" for s in scales] + [f"x{s} edge" for s in scales]
               + [f"x{s} flat" for s in scales] + ["ms/frame"])
        out.append(f"**{mode} degradation** (RMSE, edge RMSE (±2 px around depth edges) and flat RMSE (elsewhere) in "
                   f"{unit}, mean over frames; latency: median per frame)\n")
        out.append("| " + " | ".join(hdr) + " |")
        out.append("|" + "---|" * len(hdr))
        for m in methods:
            cells = [_fmt(by.get((m, s), {}).get("rmse")) for s in scales]
            cells += [_fmt(by.get((m, s), {}).get("edge_rmse")) for s in scales]
            cells += [_fmt(by.get((m, s), {}).get("flat_rmse")) for s in scales]
            times = [by[(m, s)]["time_ms"] for s in scales if (m, s) in by]
            cells.append(_fmt(float(np.median(times)) if times else None, "time_ms"))
            out.append(f"| {m} | " + " | ".join(cells) + " |")
        out.append("")
    out.append(f"Full metrics (RMSE/MAE/edge/flat RMSE in {unit}):\n")
    hdr = ["mode", "scale", "method"] + [c[1] for c in COLUMNS] + ["frames"]
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "---|" * len(hdr))
    for r in summary:
        out.append(f"| {r['mode']} | x{r['scale']} | {r['method']} | "
                   + " | ".join(_fmt(r.get(k), k) for k, _ in COLUMNS) + f" | {r.get('n_frames', '')} |")
    return "\n".join(out) + "\n"


def colorize(depth: np.ndarray, vmin: float, vmax: float, cmap: str = "turbo") -> np.ndarray:
    """(H, W) depth -> (H, W, 3) uint8 with a fixed colour scale; invalid (0/NaN) pixels black."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import colormaps
    d = np.asarray(depth, np.float32)
    ok = np.isfinite(d) & (d > 0)
    t = np.clip((np.where(ok, d, vmin) - vmin) / max(vmax - vmin, 1e-9), 0, 1)
    rgb = (colormaps[cmap](t)[..., :3] * 255).astype(np.uint8)
    rgb[~ok] = 0
    return rgb


def figure_examples(examples: list[dict], fig_dir: Path, unit_label: str = "m") -> list[Path]:
    """Side-by-side depth (input, each method, GT) with one colour scale, and absolute error maps."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for ex in examples:
        gt = np.asarray(ex["gt"], np.float32)
        ok = np.isfinite(gt) & (gt > 0)
        if not ok.any():
            continue
        vmin, vmax = np.percentile(gt[ok], [1, 99])
        panels = [("colour", ex["rgb"]), (f"input x{ex['scale']}", ex["lr"])] + list(ex["preds"].items()) + [("GT", gt)]
        n = len(panels)
        cols = min(n, 4)
        rows = int(math.ceil(n / cols))
        stem = f"{ex['dataset']}_{ex['frame']}_{ex['mode']}_x{ex['scale']}"
        fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows + 0.4), squeeze=False)
        im = None
        for ax, (title, img) in zip(axes.flat, panels):
            if img.ndim == 3:
                ax.imshow(img)
            else:
                img = np.asarray(img, np.float32)
                d = np.where(np.isfinite(img) & (img > 0), img, np.nan)
                im = ax.imshow(d, cmap="turbo", vmin=vmin, vmax=vmax, interpolation="nearest")
            ax.set_title(title, fontsize=9)
        for ax in axes.flat:
            ax.axis("off")
        if im is not None:
            fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8, label=f"depth ({unit_label})")
        p = fig_dir / f"{stem}.png"
        fig.savefig(p, dpi=80)
        plt.close(fig)
        paths.append(p)
        # error maps
        errs = [(k, np.abs(np.asarray(v, np.float32) - gt)) for k, v in ex["preds"].items()]
        if errs:
            emax = max(float(np.nanpercentile(np.where(ok, e, np.nan), 99)) if np.isfinite(np.where(ok, e, np.nan)).any() else 0 for _, e in errs) or 1e-3
            cols = min(len(errs), 4)
            rows = int(math.ceil(len(errs) / cols))
            fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows + 0.4), squeeze=False)
            for ax, (k, e) in zip(axes.flat, errs):
                im = ax.imshow(np.where(ok, e, np.nan), cmap="magma", vmin=0, vmax=emax, interpolation="nearest")
                ax.set_title(f"|{k} - GT|", fontsize=9)
            for ax in axes.flat:
                ax.axis("off")
            fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8, label=f"abs. error ({unit_label})")
            p = fig_dir / f"{stem}_err.png"
            fig.savefig(p, dpi=80)
            plt.close(fig)
            paths.append(p)
    return paths


def plot_xy(rows: list[dict], x: str, y: str, path: Path, group: str = "label", xlabel: str = "", ylabel: str = "",
            title: str = "") -> Path:
    """Line plot of ``y`` versus ``x`` for each value of ``group`` (e.g. RMSE vs diffusion steps)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for g in dict.fromkeys(r.get(group, "") for r in rows):
        pts = sorted((r[x], r[y]) for r in rows if r.get(group, "") == g and r.get(y) is not None)
        if pts:
            ax.plot(*zip(*pts), marker="o", label=str(g))
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(ax.lines) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(result, out_dir, title: str = "Depth super-resolution evaluation", figures: bool = True) -> dict:
    """Write results.json, results.md and figures for an ``EvalResult``; returns {"json", "md", "figures", "table"}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = result.summary()
    unit = result.protocol.unit
    table = markdown_tables(summary, "0-255 units" if unit in ("255", "0-255") else unit) if summary else \
        "(no result: every frame or method was skipped)\n"
    md = [f"# {title}\n", f"Protocol: `{result.protocol.name}` (crop {result.protocol.crop} px, "
          f"edge band ±{result.protocol.edge_width} px), scales {result.config.get('scales')}, "
          f"modes {result.config.get('modes')}.\n", table]
    if result.notes:
        md += ["\nNotes:\n"] + [f"- {n}" for n in result.notes] + [""]
    if result.errors:
        md += ["\nSkipped:\n"] + [f"- `{w}`: {m}" for w, m in result.errors] + [""]
    jpath, mpath = out / "results.json", out / "results.md"
    jpath.write_text(json.dumps(_jsonable({"title": title, "config": result.config, "summary": summary,
                                           "rows": result.rows, "errors": result.errors,
                                           "notes": result.notes}), indent=1))
    mpath.write_text("\n".join(md))
    figs = []
    if figures and result.examples:
        ul = "0-255" if unit in ("255", "0-255") else "m"
        figs = figure_examples(result.examples, out / "figures", ul)
    return {"json": jpath, "md": mpath, "figures": figs, "table": table}

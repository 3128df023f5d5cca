"""Ablations and sweeps of the model: RMSE/latency vs diffusion steps, GRN-recovered vs oracle guidance,
FFM multiply vs concat (two checkpoints), and the scale factor.

Each sweep returns plain rows (dicts) that report.plot_xy / markdown can use; ``run_sweeps`` writes
sweeps.json, sweeps.md, rmse_vs_steps.png and latency_vs_steps.png.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from .protocols import Protocol, evaluate, oracle_method, upscaler_method
from .report import _fmt, _jsonable, plot_xy


def _label(up, default: str) -> str:
    cfg = getattr(up, "config", {}) or {}
    model = cfg.get("model") if isinstance(cfg.get("model"), dict) else {}
    ffm = cfg.get("ffm") or cfg.get("fusion") or model.get("fusion") or model.get("ffm")
    return f"ffm={ffm}" if ffm else str(getattr(up, "model_id", default))


def steps_sweep(up, sources, scale: float = 8, mode: str = "sensor", steps=None,
                protocol: Protocol | str = "sensor", max_frames: Optional[int] = None,
                with_oracle: bool = True, progress: bool = False) -> list[dict]:
    """RMSE, edge RMSE and median latency versus the number of reverse diffusion steps (default 1..T).

    Rows: {"steps", "label" ("GRN" or "oracle"), "rmse", "edge_rmse", "time_ms", "n_frames"}.
    """
    steps = list(steps or range(1, int(getattr(up, "num_steps", 4)) + 1))
    rows = []
    for k in steps:
        res = evaluate(sources, {"GRN": upscaler_method(up, k)}, scales=(scale,), protocol=protocol, modes=(mode,),
                       max_frames=max_frames, progress=progress, n_examples=0)
        for s in res.summary():
            rows.append({"steps": k, "label": s["method"], "scale": scale, "mode": mode, "rmse": s["rmse"],
                         "edge_rmse": s["edge_rmse"], "time_ms": s["time_ms"], "n_frames": s["n_frames"]})
    om = oracle_method(up) if with_oracle else None
    if om is not None:  # GGN guidance does not use the diffusion: run once, draw as a reference line
        res = evaluate(sources, {"oracle": om}, scales=(scale,), protocol=protocol, modes=(mode,),
                       max_frames=max_frames, progress=progress, n_examples=0)
        for s in res.summary():
            rows += [{"steps": k, "label": "oracle", "scale": scale, "mode": mode, "rmse": s["rmse"],
                      "edge_rmse": s["edge_rmse"], "time_ms": s["time_ms"], "n_frames": s["n_frames"]}
                     for k in steps]
    return rows


def compare_models(ups: dict, sources, scales=(4, 8, 16), mode: str = "sensor", protocol: Protocol | str = "sensor",
                   max_frames: Optional[int] = None, progress: bool = False) -> list[dict]:
    """The same frames through several Upscalers (e.g. FFM multiply vs concat): summary rows per label/scale."""
    methods = {label: upscaler_method(up) for label, up in ups.items()}
    res = evaluate(sources, methods, scales=scales, protocol=protocol, modes=(mode,), max_frames=max_frames,
                   progress=progress, n_examples=0)
    return res.summary()


def guidance_compare(up, sources, scales=(4, 8, 16), mode: str = "sensor", protocol: Protocol | str = "sensor",
                     max_frames: Optional[int] = None, progress: bool = False) -> list[dict]:
    """GRN-recovered guidance ('ours') vs GGN guidance from the HR GT ('oracle'); empty if no oracle."""
    om = oracle_method(up)
    if om is None:
        return []
    res = evaluate(sources, {"GRN": upscaler_method(up), "oracle": om}, scales=scales, protocol=protocol,
                   modes=(mode,), max_frames=max_frames, progress=progress, n_examples=0)
    return res.summary()


def _table(rows: list[dict], keys: list[str]) -> str:
    if not rows:
        return "(none)\n"
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(k), k) if isinstance(r.get(k), float) else str(r.get(k, ""))
                                       for k in keys) + " |")
    return "\n".join(lines) + "\n"


def run_sweeps(up, sources, out_dir, up_b=None, scale: float = 8, scales=(4, 8, 16), mode: str = "sensor",
               protocol: Protocol | str = "sensor", max_frames: Optional[int] = 4, progress: bool = True) -> dict:
    """All sweeps for one model (+ an optional second checkpoint for the FFM comparison); writes files."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = {"steps": steps_sweep(up, sources, scale, mode, protocol=protocol, max_frames=max_frames,
                                progress=progress),
           "guidance": guidance_compare(up, sources, scales, mode, protocol, max_frames, progress)}
    if up_b is not None:
        la, lb = _label(up, "A"), _label(up_b, "B")
        if la == lb:
            la, lb = la + " (A)", lb + " (B)"
        res["ffm"] = compare_models({la: up, lb: up_b}, sources, scales, mode, protocol, max_frames, progress)
    (out / "sweeps.json").write_text(json.dumps(_jsonable(res), indent=1))
    md = ["# Sweeps\n", f"## RMSE and latency vs diffusion steps (x{scale:g}, {mode}; oracle: GGN guidance, no diffusion)\n",
          _table(res["steps"], ["steps", "label", "rmse", "edge_rmse", "time_ms"]),
          "## GRN-recovered vs oracle guidance\n",
          _table(res["guidance"], ["scale", "method", "rmse", "edge_rmse", "time_ms"])
          if res["guidance"] else "(the Upscaler offers no upscale_oracle)\n"]
    if "ffm" in res:
        md += ["## FFM variants\n", _table(res["ffm"], ["scale", "method", "rmse", "edge_rmse", "time_ms"])]
    (out / "sweeps.md").write_text("\n".join(md))
    if res["steps"]:
        plot_xy(res["steps"], "steps", "rmse", out / "rmse_vs_steps.png", xlabel="diffusion steps",
                ylabel="RMSE", title=f"RMSE vs steps (x{scale:g}, {mode})")
        plot_xy(res["steps"], "steps", "time_ms", out / "latency_vs_steps.png", xlabel="diffusion steps",
                ylabel="ms / frame", title="latency vs steps")
    return res

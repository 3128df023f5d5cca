"""What the guidance prior contributes, on real frames: the same DSRN run with different priors.

Variants (per frame, same LR input):
  oracle      GGN's prior from the HR ground truth (the upper bound stage 1 trains for)
  GRN         the prior GRN recovers from LR depth + colour (what the product runs), default steps
  mean z      one prior for every frame: the mean of the frames' GRN priors (resampled to a common grid)
  other z     the GRN prior of another frame (frame i gets frame i+1's; resized to this frame's grid)
  z = 0       an all-zero prior
plus RMSE and latency for every step count 1..T (GRN only). Without self-ensemble by default (``ensemble=1``): a
prior belongs to the input as given, and the ablation measures the network, not the average over orientations.
Frames: ``(name, rgb (H,W,3) uint8, depth (H,W) metres)``; LR made by ``protocols.make_lr`` (seeded per frame).
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from .metrics import compute_metrics
from .protocols import frame_seed, make_lr

VARIANTS = ("oracle", "GRN", "mean z", "other z", "z = 0")


def _resize(z: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    t = torch.from_numpy(z)[None]
    return F.interpolate(t, size=hw, mode="bilinear", align_corners=False)[0].numpy()


def prior_ablation(up, frames: list[tuple], scale: float = 4, mode: str = "sensor", unit: str = "cm",
                   ensemble: int = 1) -> dict:
    """{"rows": per frame x variant metrics, "summary": mean per variant (+ ratio to 'mean z'), "steps": per step
    count RMSE and median latency, "z_spread": mean pairwise cosine similarity of the frames' GRN priors}."""
    if len(frames) < 2:
        raise ValueError("the prior ablation needs at least two frames (it swaps priors between them)")
    prepared = []
    for name, rgb, gt in frames:
        lr = make_lr(gt, scale, mode, frame_seed("prior", name, mode, scale))
        prepared.append((name, rgb, gt, lr, up.guidance(lr, rgb), up.oracle_guidance(lr, rgb, gt)))
    hw0 = prepared[0][4].shape[-2:]
    z_mean = np.mean([_resize(p[4], hw0) for p in prepared], axis=0).astype(np.float32)
    rows = []
    for i, (name, rgb, gt, lr, z_grn, z_or) in enumerate(prepared):
        z_other = prepared[(i + 1) % len(prepared)][4]
        priors = {"oracle": z_or, "GRN": z_grn, "mean z": z_mean, "other z": z_other, "z = 0": np.zeros_like(z_grn)}
        for v in VARIANTS:
            pred = up.upscale(lr, rgb, guidance=priors[v], ensemble=ensemble)
            rows.append({"frame": name, "variant": v, **compute_metrics(pred, gt, unit=unit)})
    summary = []
    for v in VARIANTS:
        rs = [r for r in rows if r["variant"] == v]
        summary.append({"variant": v, **{k: float(np.mean([r[k] for r in rs])) for k in ("rmse", "edge_rmse",
                                                                                         "flat_rmse")}})
    ref = next(s["rmse"] for s in summary if s["variant"] == "mean z")
    for s in summary:
        s["vs_mean_z"] = s["rmse"] / ref
    steps = []
    for k in range(1, up.num_steps + 1):
        errs, times = [], []
        for name, rgb, gt, lr, _, _ in prepared:
            t0 = time.perf_counter()
            pred = up.upscale(lr, rgb, steps=k, ensemble=ensemble)
            times.append((time.perf_counter() - t0) * 1000)
            errs.append(compute_metrics(pred, gt, unit=unit)["rmse"])
        steps.append({"steps": k, "rmse": float(np.mean(errs)), "time_ms": float(np.median(times))})
    flat = [_resize(p[4], hw0).ravel() for p in prepared]
    cos = [float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
           for i, a in enumerate(flat) for b in flat[i + 1:]]
    return {"scale": scale, "mode": mode, "unit": unit, "n_frames": len(frames), "ensemble": ensemble, "rows": rows,
            "summary": summary, "steps": steps, "z_cosine_mean": float(np.mean(cos)),
            "z_cosine_min": float(np.min(cos))}


def markdown(res: dict) -> str:
    u = res["unit"]
    lines = [f"Prior ablation, x{res['scale']:g} {res['mode']}, {res['n_frames']} frames (RMSE in {u}; mean over "
             f"frames). GRN priors' pairwise cosine: mean {res['z_cosine_mean']:.3f}, min {res['z_cosine_min']:.3f}.",
             "", "| prior | RMSE | edge RMSE | flat RMSE | vs mean z |", "|---|---|---|---|---|"]
    for s in res["summary"]:
        lines.append(f"| {s['variant']} | {s['rmse']:.2f} | {s['edge_rmse']:.2f} | {s['flat_rmse']:.2f} | "
                     f"{s['vs_mean_z']:.3f} |")
    lines += ["", "| steps | RMSE | ms/frame |", "|---|---|---|"]
    lines += [f"| {s['steps']} | {s['rmse']:.3f} | {s['time_ms']:.0f} |" for s in res["steps"]]
    return "\n".join(lines) + "\n"

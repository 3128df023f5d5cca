"""dsr-diff-bench: per-frame latency (median of repeats after warm-up) and accuracy of every method at 640x480.

    dsr-diff-bench --data ../shared/data/rgbd --scale 4 --frames 3 --repeats 5

Each method gets the same LR input (640x480 colour, LR = 640x480 / scale, sensor degradation by default);
latency is measured around the whole method call (hole filling + up-sampling + filtering) on this machine.
Prints a table (accuracy and cost side by side) and writes JSON to bench/results/<name>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from ..data.folder import DatasetError
from ..pipeline import ENSEMBLE_SIZES


def _frames(data: str | None, n: int):
    """Up to n RGB-D samples at 640x480 from --data (resized if needed), or a synthetic scene if None."""
    from ..data.folder import RGBDSample
    from ..frame import Intrinsics
    out = []
    if data:
        from ..evaluation.datasets import discover_sequences
        seqs, _ = discover_sequences(data)
        for _, src in seqs:
            for s in src:
                if s.depth.shape != (480, 640):
                    s = RGBDSample(s.name, cv2.resize(s.rgb, (640, 480), interpolation=cv2.INTER_AREA),
                                   cv2.resize(s.depth, (640, 480), interpolation=cv2.INTER_NEAREST), s.intrinsics)
                out.append(s)
                break  # one frame per sequence: variety over repetition
            if len(out) >= n:
                break
    if not out:  # synthetic piecewise-planar scene
        yy, xx = np.mgrid[0:480, 0:640].astype(np.float32)
        depth = 2.0 + 0.002 * xx
        depth[(xx > 200) & (xx < 440) & (yy > 120) & (yy < 360)] = 1.2
        rgb = np.full((480, 640, 3), 90, np.uint8)
        rgb[(xx > 200) & (xx < 440) & (yy > 120) & (yy < 360)] = (200, 120, 60)
        out.append(RGBDSample("synthetic", rgb, depth.astype(np.float32), Intrinsics(525, 525, 319.5, 239.5, 640, 480)))
    return out[:n]


def bench(methods: dict, frames, scale: float = 4, mode: str = "sensor", repeats: int = 5, warmup: int = 1) -> list[dict]:
    """Rows {method, ms_median, ms_min, ms_p90, rmse_cm, edge_rmse_cm, mae_cm, coverage, n_frames}."""
    from ..evaluation.metrics import aggregate, compute_metrics
    from ..evaluation.protocols import frame_seed, make_lr
    inputs = [(s, make_lr(s.depth, scale, mode, frame_seed("bench", s.name, scale))) for s in frames]
    rows = []
    for name, fn in methods.items():
        times, mets = [], []
        try:
            for s, lr in inputs:
                for _ in range(warmup):
                    fn(lr, s.rgb, s.depth)
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    pred = fn(lr, s.rgb, s.depth)
                    times.append((time.perf_counter() - t0) * 1000)
                mets.append(compute_metrics(np.asarray(pred), s.depth, unit="cm"))
        except Exception as e:
            rows.append({"method": name, "error": f"{type(e).__name__}: {e}"})
            continue
        a = aggregate(mets)
        rows.append({"method": name, "ms_median": float(np.median(times)), "ms_min": float(np.min(times)),
                     "ms_p90": float(np.percentile(times, 90)), "rmse_cm": a["rmse"], "mae_cm": a["mae"],
                     "edge_rmse_cm": a["edge_rmse"], "coverage": a["coverage"], "n_frames": len(inputs),
                     "repeats": repeats})
    return rows


def format_table(rows: list[dict], scale: float, mode: str) -> str:
    lines = [f"640x480 colour, LR x{scale:g} ({mode}); latency = median over repeats after warm-up",
             "| method | ms/frame (median) | ms p90 | fps | RMSE cm | edge RMSE cm | MAE cm | coverage |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['method']} | failed: {r['error']} | | | | | | |")
            continue
        lines.append(f"| {r['method']} | {r['ms_median']:.1f} | {r['ms_p90']:.1f} | {1000 / max(r['ms_median'], 1e-6):.1f} "
                     f"| {r['rmse_cm']:.2f} | {r['edge_rmse_cm']:.2f} | {r['mae_cm']:.2f} | {100 * r['coverage']:.1f}% |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    from ..data.shared import ENV, shared_path
    from ..evaluation.baselines import BASELINES, EXTRA_BASELINES
    from ..evaluation.protocols import methods_for
    p = argparse.ArgumentParser(prog="dsr-diff-bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = shared_path("rgbd")
    p.add_argument("--data", default=str(shared) if shared else None,
                   help=f"RGB-D sequence(s); default: the shared frames ({ENV} or <repo>/../shared/data/rgbd), "
                        "else a synthetic scene")
    p.add_argument("--methods", nargs="+", default=list(BASELINES) + ["ours"],
                   help=f"any of {', '.join(list(BASELINES) + list(EXTRA_BASELINES))}, ours, oracle")
    p.add_argument("--scale", type=float, default=4)
    p.add_argument("--mode", default="sensor", choices=["sensor", "bicubic"])
    p.add_argument("--frames", type=int, default=3)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--weights", default=None)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--ensemble", type=int, choices=ENSEMBLE_SIZES, default=None,
                   help="self-ensemble size for 'ours' (default: the model's; the shipped model: 8)")
    p.add_argument("--device", default="auto")
    p.add_argument("--name", default="bench_methods", help="JSON name under --results-dir")
    p.add_argument("--results-dir", default="bench/results")
    a = p.parse_args(argv)
    try:
        frames = _frames(a.data, a.frames)
    except DatasetError as e:
        print(f"dsr-diff-bench: error: {e}", file=sys.stderr)
        return 2
    notes: list[str] = []
    try:
        up, methods = methods_for(a.methods, a.weights, a.device, a.steps, notes, ensemble=a.ensemble)
    except KeyError as e:
        print(f"dsr-diff-bench: error: {e.args[0]}", file=sys.stderr)
        return 2
    for n in notes:
        print(f"warning: {n}", file=sys.stderr)
    rows = bench(methods, frames, a.scale, a.mode, a.repeats, a.warmup)
    table = format_table(rows, a.scale, a.mode)
    print(table)
    try:
        import torch
        threads = torch.get_num_threads()
    except ImportError:
        threads = None
    out = {"name": a.name, "scale": a.scale, "mode": a.mode, "frames": [s.name for s in frames],
           "repeats": a.repeats, "warmup": a.warmup, "rows": rows, "notes": notes,
           "model_id": getattr(up, "model_id", None), "steps": a.steps or getattr(up, "default_steps", None),
           "ensemble": a.ensemble or getattr(up, "default_ensemble", None),
           "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
                       "torch_threads": threads, "device": str(getattr(up, "device", "cpu"))},
           "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    path = Path(a.results_dir) / f"{a.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, default=lambda o: None))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

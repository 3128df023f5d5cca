"""Frames with holes but clean values: the holes expert, or fill the holes and take the clean path? (TUNE split)

    python bench/calibrate_hole_fill.py [--every 4] [--scales 4,8,16] [--threads 1] [--holes WEIGHTS] [--sensor WEIGHTS]

Frames with holes go to the holes expert (ratio <= its max_ratio) or v2, which are trained on noisy sensors. A
frame whose values are clean (the bicubic protocol on ground truth that has holes, as public test sets and
Kinect depth have) may do better with its LR holes filled (nearest valid pixel) and the clean expert of its band.
For every tune frame (RGB-D-D every n-th + the Middlebury tune scenes) and scale, inputs with holes:

- ``bicubic+sensor_holes``: the bicubic LR with a random sensor's holes (2 draws)
- ``kinect_bicubic``: the Kinect-like native frame (``kinect_like_tune.kinect_native``: holes, quantised, fattened)
  through the bicubic protocol (holes dilated by its support), scored against that native frame
- ``kinect_noisy``: the same native frame through the heavy-noise protocol (``noisy_downsample``)
- ``kinect_sensor``: the same native frame through the report's sensor protocol
- ``sensor``: random sensors (3 draws), scored against the exact frame

it records the valid share of the LR pixels, the measured noise (``image_noise``) and the one-pass RMSE of the
shipped routing with ``hole_fill`` off, as the frame is and with its LR holes filled first (which then routes it as
a hole-free frame). For a grid of ``max_valid`` (fill the holes when fewer LR pixels than that are valid: the rule
``Upscaler`` applies, JSON ``hole_fill``) it prints, per scale, the geometric mean and worst case of chosen / as-is
per input kind and over all (with how many inputs were filled). The noise does not separate the kinds that gain
(median 0.0009 for the Kinect-like bicubic inputs, 0.0008 for bicubic with a sensor's holes, which lose); the
valid share does. Writes ``bench/results/hole_fill_calibration.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import rmse_cm, tune_root  # noqa: E402
from kinect_like_tune import kinect_native  # noqa: E402
from dsr_diff_ros import Upscaler  # noqa: E402
from dsr_diff_ros.data.degradations import bicubic_downsample, degrade, noisy_downsample  # noqa: E402
from dsr_diff_ros.data.shared import shared_path  # noqa: E402
from dsr_diff_ros.evaluation.baselines import bicubic, fill_nearest  # noqa: E402
from dsr_diff_ros.evaluation.protocols import frame_seed  # noqa: E402
from dsr_diff_ros.inference import resolve_weights  # noqa: E402
from dsr_diff_ros.model.checkpoint import load_weights  # noqa: E402
from dsr_diff_ros.model.degradation import image_noise  # noqa: E402
from dsr_diff_ros.training.dataset import random_sensor  # noqa: E402
from dsr_diff_ros.training.trainer import tune_frames  # noqa: E402

GRID = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def inputs(name: str, rgb: np.ndarray, hr: np.ndarray, s: float):
    """(kind, lr, gt) for one frame and scale; every lr has holes."""
    out = []
    for k in range(2):
        rng = np.random.default_rng(frame_seed("hole_fill_bh", name, k, s))
        holes = degrade(hr, s, "sensor", random_sensor(rng), rng, rgb=rgb) == 0
        out.append(("bicubic+sensor_holes", np.where(holes, 0, bicubic_downsample(hr, s)).astype(np.float32), hr))
    native = kinect_native(hr, rgb, np.random.default_rng(frame_seed("hole_fill_kn", name)))
    out.append(("kinect_bicubic", bicubic_downsample(native, s), native))
    out.append(("kinect_noisy", noisy_downsample(native, s, np.random.default_rng(frame_seed("hole_fill_kz", name, s))),
                native))
    out.append(("kinect_sensor", degrade(native, s, "sensor", rng=np.random.default_rng(frame_seed("hole_fill_ks", name, s)),
                                         rgb=rgb), native))
    for k in range(3):
        rng = np.random.default_rng(frame_seed("hole_fill_s", name, k, s))
        out.append(("sensor", degrade(hr, s, "sensor", random_sensor(rng), rng, rgb=rgb), hr))
    return [(kind, lr, gt) for kind, lr, gt in out if (lr == 0).any() and (lr > 0).any()]


def tune_inputs(root, every: int, scales: str):
    """(frame name, rgb, scale, kind, lr, gt) for every tune frame (``tune_frames(root, every, start=1)``), scale
    of ``scales`` ("4,8,16") and input with holes of ``inputs``."""
    for name, rgb, hr in tune_frames(root, every, start=1):
        for s in (float(x) for x in scales.split(",")):
            for kind, lr, gt in inputs(name, rgb, hr, s):
                yield name, rgb, s, kind, lr, gt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--every", type=int, default=4)
    ap.add_argument("--scales", default="4,8,16")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--holes", default=None, help="a holes-expert candidate in place of the shipped one")
    ap.add_argument("--sensor", default=None, help="a v2 (sensor expert) candidate in place of the shipped one")
    ap.add_argument("--data", default=str(shared_path() or ""))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "hole_fill_calibration.json"))
    a = ap.parse_args()
    root = tune_root(a.data, "calibrate_hole_fill")
    if root is None:
        return 2
    torch.set_num_threads(a.threads)
    up = Upscaler.from_pretrained(device="cpu", ensemble=1)
    up.hole_fill_max_valid = 0.0   # the routing without the rule being calibrated
    if a.holes:
        up.holes.load_state_dict(load_weights(resolve_weights(a.holes))[0].state_dict())
    if a.sensor:
        up.model.load_state_dict(load_weights(resolve_weights(a.sensor))[0].state_dict())
    rows = []
    for name, rgb, s, kind, lr, gt in tune_inputs(root, a.every, a.scales):
        p = up.model.prepare(torch.from_numpy(lr)[None, None], torch.from_numpy(rgb).permute(2, 0, 1)[None])
        filled = fill_nearest(lr)
        rows.append(dict(frame=name, scale=s, kind=kind, valid=float((lr > 0).mean()),
                         noise=float(image_noise(p.lr)[0]), expert=up.experts(lr, rgb)[0],
                         expert_filled=up.experts(filled, rgb)[0],
                         as_is=rmse_cm(up.upscale(lr, rgb), gt), filled=rmse_cm(up.upscale(filled, rgb), gt),
                         bicubic=rmse_cm(bicubic(lr, rgb), gt)))
    kinds = sorted({r["kind"] for r in rows})
    table = {}
    print(f"{len(rows)} inputs; geometric mean (worst, inputs filled) of chosen / as-is RMSE when frames with fewer "
          f"valid LR pixels than max_valid are filled first")
    for s in sorted({r["scale"] for r in rows}):
        print(f"x{s:g}  {'max_valid':>9s} " + " ".join(f"{k:>26s}" for k in kinds + ['all']))
        for t in GRID:
            row = {}
            for k in kinds + ["all"]:
                rs = [r for r in rows if k in ("all", r["kind"]) and r["scale"] == s]
                q = np.array([(r["filled"] if r["valid"] < t else r["as_is"]) / r["as_is"] for r in rs])
                row[k] = {"geomean": float(np.exp(np.log(q).mean())), "worst": float(q.max()), "n": len(rs),
                          "filled": int(sum(r["valid"] < t for r in rs))}
            table[f"x{s:g} max_valid {t:g}"] = row
            print(f"     {t:9.2f} " + " ".join(f"{row[k]['geomean']:12.4f} ({row[k]['worst']:.3f}, {row[k]['filled']:3d})"
                                              for k in kinds + ["all"]))
    for k in kinds:
        rs = [r for r in rows if r["kind"] == k]
        print(f"{k:22s} valid p10/p50/p90 {np.percentile([r['valid'] for r in rs], [10, 50, 90]).round(2)}  "
              f"noise p10/p50/p90 {np.percentile([r['noise'] for r in rs], [10, 50, 90]).round(4)}  "
              f"as-is / bicubic {np.exp(np.mean([np.log(r['as_is'] / r['bicubic']) for r in rs])):.3f}  "
              f"filled / bicubic {np.exp(np.mean([np.log(r['filled'] / r['bicubic']) for r in rs])):.3f}")
    Path(a.out).write_text(json.dumps({"every": a.every, "holes": a.holes, "sensor": a.sensor, "grid": table, "rows": rows}, indent=1))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

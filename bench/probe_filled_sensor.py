#!/usr/bin/env python3
"""A candidate clean-band expert against the shipped one on the calibration's quiet hole-filled sensor inputs,
through the Upscaler (routing as shipped), in one pass and with 8 copies.

    python bench/probe_filled_sensor.py CANDIDATE [--band clean_x8] [--scale 8] [--data ../shared/data]

The inputs are bench/calibrate_experts.py's "filled" cases (its tune frames, RGB-D-D every 2nd + Middlebury, and
its random sensors, same seeds), at one of its scales (2.67, 4, 8 or 16). Prints per frame and the geometric mean
of candidate / shipped RMSE. (Twelfth session: `checkpoints/x8_dihedral_cpu49` gave 1.017 / 1.016 against the
eighth session's x8 expert, shipped then.)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dsr_diff_ros import Upscaler  # noqa: E402
from dsr_diff_ros.data.degradations import degrade  # noqa: E402
from dsr_diff_ros.data.shared import shared_path  # noqa: E402
from dsr_diff_ros.evaluation.baselines import fill_nearest  # noqa: E402
from dsr_diff_ros.model.checkpoint import load_weights  # noqa: E402
from dsr_diff_ros.training.dataset import random_sensor  # noqa: E402
from dsr_diff_ros.training.trainer import tune_frames  # noqa: E402

from compare_expert import swap  # noqa: E402  (this folder)

SCALES = (512 / 192, 4.0, 8.0, 16.0)   # calibrate_experts.py's filled cases, in its order


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("candidate", help="weights path (without suffix) of the candidate expert")
    ap.add_argument("--band", default="clean_x8", choices=("clean_x4", "clean_x8", "clean_x16"),
                    help="the clean band (or clean_x16, the expert above them) to swap")
    ap.add_argument("--scale", type=float, default=8.0, choices=SCALES)
    ap.add_argument("--data", default=str(shared_path() or ""))
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    ship, cand = Upscaler.from_pretrained(device="cpu"), Upscaler.from_pretrained(device="cpu")
    swap(cand, a.band, load_weights(Path(a.candidate))[0].eval().to(memory_format=torch.channels_last))
    frames = tune_frames(Path(a.data), 2, start=1)
    rng, rng_filled = np.random.default_rng(0), np.random.default_rng(1)
    ratios: dict[int, list[float]] = {1: [], 8: []}
    for k, (name, rgb, hr) in enumerate(frames):
        [random_sensor(rng) for _ in range(4)]   # keep calibrate_experts.py's draw order
        sensor = [random_sensor(rng_filled) for _ in SCALES][SCALES.index(a.scale)]
        lr = fill_nearest(degrade(hr, a.scale, "sensor", sensor, rng=k)).astype(np.float32)
        v = hr > 0
        row = []
        for n in (1, 8):
            e = [float(np.sqrt(np.nanmean((up.upscale(lr, rgb, ensemble=n)[v] - hr[v]) ** 2))) for up in (ship, cand)]
            ratios[n].append(e[1] / e[0])
            row.append(f"{n} copies {e[0]:.4f} -> {e[1]:.4f}")
        print(name, ship.experts(lr, rgb)[0], "; ".join(row), flush=True)
    for n, r in ratios.items():
        print(f"candidate / shipped, {n} copies: {float(np.exp(np.mean(np.log(r)))):.4f} (worst {max(r):.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

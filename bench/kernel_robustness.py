#!/usr/bin/env python3
"""The bicubic protocol as other evaluation code implements it (TUNE split): how much of the model's lead survives?

    python bench/kernel_robustness.py [--every 8] [--scales 4,8,16] [--swap clean_x4=runs/RUN/stage2 ...]
                                      [--ensemble 1] [--threads 1] [--out bench/results/kernel_robustness.json]

The papers downsample the ground truth with antialiased bicubic (PIL / MATLAB ``imresize``:
``data.degradations.bicubic_downsample``); a lot of evaluation code does it with OpenCV or PyTorch instead
(``cv2.resize(INTER_CUBIC)``, ``F.interpolate(mode="bicubic")``: no antialiasing, so the LR image is aliased), or
with nearest neighbour (``depth[::s, ::s]``: a grid (s-1)/2 HR px off the block centre). For every tune frame (RGB-D-D
every ``--every``-th tune scene from the second + the Middlebury tune scenes: ``training.trainer.tune_frames``),
scale and kernel (``bicubic`` + ``data.degradations.KERNELS``) it scores the shipped routing, any candidate (the
shipped Upscaler with one expert swapped, as ``compare_expert.py`` does), the guided filter and the domain-transform
filter against bicubic upsampling of the same input, and prints the geometric mean and worst ratio per kernel and
scale. Found in the twenty-fourth session: at x4 the shipped model was 0.60x bicubic on the papers' kernel and
0.95x on OpenCV's (docs/model.md).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import rmse_cm, tune_root  # noqa: E402
from compare_expert import swap  # noqa: E402
from dsr_diff_ros import Upscaler  # noqa: E402
from dsr_diff_ros.data.degradations import KERNELS, kernel_downsample  # noqa: E402
from dsr_diff_ros.data.shared import shared_path  # noqa: E402
from dsr_diff_ros.evaluation.baselines import bicubic, get_method  # noqa: E402
from dsr_diff_ros.model.checkpoint import load_weights  # noqa: E402
from dsr_diff_ros.training.trainer import tune_frames  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--every", type=int, default=8)
    ap.add_argument("--scales", default="4,8,16")
    ap.add_argument("--kernels", default=",".join(("bicubic",) + KERNELS))
    ap.add_argument("--swap", action="append", default=[], metavar="EXPERT=WEIGHTS",
                    help="a candidate: the shipped routing with EXPERT (clean_x4, clean_x8, clean_x16, sensor, holes) "
                         "replaced by WEIGHTS; repeat for several experts of one candidate")
    ap.add_argument("--ensemble", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", default=str(shared_path() or ""))
    ap.add_argument("--out", default="bench/results/kernel_robustness.json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    root = tune_root(a.data, "kernel_robustness")
    if root is None:
        return 2
    methods = {"ours": Upscaler.from_pretrained(device="cpu")}
    if a.swap:
        cand = Upscaler.from_pretrained(device="cpu")
        for spec in a.swap:
            expert, _, path = spec.partition("=")
            swap(cand, expert, load_weights(Path(path))[0].eval().to(memory_format=torch.channels_last))
        methods["candidate"] = cand
    peers = {"guided": get_method("guided"), "dtf": get_method("dtf")}
    ratios: dict = defaultdict(list)
    t0 = time.time()
    for name, rgb, hr in tune_frames(root, a.every, start=1):
        for s in (float(x) for x in a.scales.split(",")):
            for k in a.kernels.split(","):
                lr = kernel_downsample(hr, s, k)
                ref = rmse_cm(bicubic(lr, rgb), hr)
                for m, up in methods.items():
                    ratios[(k, s, m)].append(rmse_cm(up.upscale(lr, rgb, ensemble=a.ensemble), hr) / ref)
                for m, f in peers.items():
                    ratios[(k, s, m)].append(rmse_cm(f(lr, rgb), hr) / ref)
    names = list(methods) + list(peers)
    rows = []
    print(f"| kernel | scale | {' | '.join(names)} |  (RMSE / bicubic's, geometric mean over frames; worst)\n"
          f"|---|---|{'---|' * len(names)}")
    for k in a.kernels.split(","):
        for s in (float(x) for x in a.scales.split(",")):
            row = {"kernel": k, "scale": s}
            for m in names:
                v = np.array(ratios[(k, s, m)])
                row[m] = {"geomean": round(float(np.exp(np.log(v).mean())), 4), "worst": round(float(v.max()), 4),
                          "frames": len(v)}
            rows.append(row)
            print(f"| {k} | x{s:g} | " + " | ".join(f"{row[m]['geomean']:.3f} ({row[m]['worst']:.2f})" for m in names)
                  + " |", flush=True)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({"every": a.every, "ensemble": a.ensemble, "swap": a.swap,
                                       "model": methods["ours"].model_id, "minutes": round((time.time() - t0) / 60, 1),
                                       "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

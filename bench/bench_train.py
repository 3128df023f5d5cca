#!/usr/bin/env python3
"""Training throughput on this CPU: samples/s per core and the split between data and compute.

    python bench/bench_train.py [--iters 20] [--threads 1] [--old-src PATH]

data:    ms to build one batch (8 x 128x128): today's ``TrainingBatches`` (real crops + a procedural bank,
         degraded on the fly) vs the first trainer's data (8 freshly generated procedural scenes per batch).
compute: ms of one optimiser step (forward + backward + Adam) of stage 1 and stage 2, channels-first and
         channels_last. ``--old-src`` (a checkout of the first implementation) adds its stage-2 step.
Everything on ``--threads`` torch threads in this process (one core: the other core serves the robot / session).
Writes bench/results/train.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dsr_diff_ros.data.real import read_middlebury, read_rgbdd  # noqa: E402
from dsr_diff_ros.data.shared import shared_path  # noqa: E402
from dsr_diff_ros.data.synthetic import SceneGenerator  # noqa: E402
from dsr_diff_ros.model import DSRDiff  # noqa: E402
from dsr_diff_ros.training.dataset import BatchSpec, TrainingBatches  # noqa: E402
from dsr_diff_ros.training.trainer import StageLoss  # noqa: E402

OLD_STEP = r'''
import sys, time, torch
sys.path.insert(0, sys.argv[1]); torch.set_num_threads(int(sys.argv[2]))
from dsr_diff_ros.model import DSRDiff
from dsr_diff_ros.training.trainer import StageLoss
from dsr_diff_ros.training.dataset import SyntheticBatches, BatchSpec
m = DSRDiff(); loss = StageLoss(m, 2); opt = torch.optim.Adam([p for n, p in m.named_parameters() if not n.startswith("ggn")])
b = SyntheticBatches(BatchSpec(batch=8, patch=128, p_x4=1.0), seed=0)[0]
g = torch.Generator().manual_seed(0); ts = []
for i in range(int(sys.argv[3]) + 3):
    t = time.perf_counter()
    l, _ = loss(b["rgb"], b["depth_hr"], b["depth_lr"], 2, torch.randn(8, m.cfg.z_dim, generator=g))
    opt.zero_grad(); l.backward(); opt.step(); ts.append(time.perf_counter() - t)
print(sorted(ts[3:])[len(ts[3:]) // 2] * 1000)
'''


def median_ms(fn, n: int) -> float:
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts) * 1000)


def step_ms(stage: int, batch: dict, iters: int, channels_last: bool) -> float:
    torch.manual_seed(0)
    m = DSRDiff()
    if channels_last:
        m = m.to(memory_format=torch.channels_last)
    loss = StageLoss(m, stage)
    frozen = "grn" if stage == 1 else "ggn"
    opt = torch.optim.Adam([p for n, p in m.named_parameters() if not n.startswith(frozen)])
    g = torch.Generator().manual_seed(0)
    rgb = batch["rgb"].contiguous(memory_format=torch.channels_last) if channels_last else batch["rgb"]

    def step():
        lo, _ = loss(rgb, batch["depth_hr"], batch["depth_lr"], 2, g)
        opt.zero_grad()
        lo.backward()
        opt.step()
    for _ in range(3):
        step()
    return median_ms(step, iters)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--old-src", default=None, help="checkout of the first implementation (adds its stage-2 step)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "train.json"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    root = shared_path()
    real = (read_rgbdd(root / "rgbdd_train") + read_middlebury(root / "middlebury_train")) if root else []
    spec = BatchSpec(batch=8, patch=128, p_x4=1.0)
    ds = TrainingBatches(spec, real, seed=0)
    ds[0]  # builds the procedural bank once (not part of the steady state)
    it = iter(range(1, 10 ** 6))
    data_new = median_ms(lambda: ds[next(it)], a.iters)
    gen = SceneGenerator(128, 128)
    seeds = iter(range(10 ** 6))
    data_old = median_ms(lambda: [gen(next(seeds)) for _ in range(8)], max(3, a.iters // 4))
    batch = ds[1]
    res = {"machine": f"{os.cpu_count()} cores, torch {torch.__version__}, {a.threads} thread(s)",
           "real_pairs": len(real), "data_ms_per_batch": {"now": data_new, "first trainer (8 new scenes)": data_old}}
    comp = {}
    for stage in (1, 2):
        for cl in (False, True):
            comp[f"stage {stage}{' channels_last' if cl else ''}"] = step_ms(stage, batch, a.iters, cl)
    if a.old_src:
        r = subprocess.run([sys.executable, "-c", OLD_STEP, a.old_src, str(a.threads), str(a.iters)],
                           capture_output=True, text=True)
        if r.returncode == 0:
            comp["first model, stage 2"] = float(r.stdout.strip().splitlines()[-1])
        else:
            print("old source failed:", r.stderr[-500:], file=sys.stderr)
    res["compute_ms_per_step"] = comp
    now = data_new + comp["stage 2"]
    res["samples_per_s_per_core"] = {"now (stage 2)": 8000 / now}
    if "first model, stage 2" in comp:
        res["samples_per_s_per_core"]["first trainer (stage 2, data on the same core)"] = \
            8000 / (data_old + comp["first model, stage 2"])
    print(json.dumps(res, indent=1))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

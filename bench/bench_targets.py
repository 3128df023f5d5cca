#!/usr/bin/env python3
"""The model issue's targets in one table: size, latency and accuracy of a checkpoint, each against its limit.

    python bench/bench_targets.py [--weights NAME] [--data ../shared/data/rgbd] [--threads 0]

Accuracy, x4 sensor-mode degradation (``evaluation.protocols``, same seeds as ``dsr-diff-eval``), RMSE on valid
GT pixels, mean over frames:
- real:       every sequence of ``--data`` whose name does not contain "synthetic" (the Kinect frames);
- rendered:   the sequences whose name contains "synthetic" (the rendered living room);
- generator:  ``--scenes`` 640x480 scenes of the procedural generator, seeds 10^9 + i (training draws its scene
              seeds at random from [0, 2^62): these are unseen in practice; training patches are 128x128).
Latency: median ``Upscaler.upscale`` of 160x120 depth + 640x480 RGB with all diffusion steps.
Prints the table and writes bench/results/targets.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dsr_diff_ros.data.shared import shared_root  # noqa: E402
from dsr_diff_ros.data.synthetic import SceneGenerator  # noqa: E402
from dsr_diff_ros.evaluation.datasets import discover_sequences  # noqa: E402
from dsr_diff_ros.evaluation.protocols import evaluate, frame_seed, make_lr, methods_for  # noqa: E402
from dsr_diff_ros.evaluation.metrics import compute_metrics  # noqa: E402

from bench_model import latency_input, machine_label, median_ms  # noqa: E402  (this folder)

SHARED = shared_root() / "rgbd"  # DSR_SHARED_DATA or <repo>/../shared/data
HELD_OUT_SEED = 10 ** 9
LIMITS = {"params": 5e6, "latency_ms": 250.0, "real_ratio": 0.6, "synthetic_ratio": 0.5}


def mean_rmse(rows: list[dict]) -> dict[str, float]:
    by: dict[str, list] = {}
    for r in rows:
        by.setdefault(r["method"], []).append(r["rmse"])
    return {m: float(np.mean(v)) for m, v in by.items()}


def generator_scenes(methods: dict, n: int, scale: float = 4.0) -> dict[str, float]:
    gen = SceneGenerator(480, 640)
    rows = []
    for i in range(n):
        s = gen(HELD_OUT_SEED + i)
        lr = make_lr(s.depth, scale, "sensor", frame_seed("generator", i, "sensor", scale))
        for name, fn in methods.items():
            rows.append({"method": name, **compute_metrics(fn(lr, s.rgb, s.depth), s.depth, unit="cm")})
    return mean_rmse(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=None, help="checkpoint name or path (default: the shipped default)")
    ap.add_argument("--data", default=str(SHARED), help="folder of RGB-D sequences")
    ap.add_argument("--scenes", type=int, default=12, help="held-out generator scenes")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "targets.json"))
    a = ap.parse_args()
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    up, methods = methods_for(["bicubic", "guided", "ours"], a.weights, a.device)
    if up is None:
        print("bench_targets: the model could not be loaded", file=sys.stderr)
        return 2
    params = sum(p.numel() for p in up.model.parameters())

    depth, rgb = latency_input()
    latency = median_ms(lambda: up.upscale(depth, rgb, steps=up.num_steps), a.repeats)

    sources, _ = discover_sequences(a.data)
    groups = {"real": [s for s in sources if "synthetic" not in s[0]],
              "rendered": [s for s in sources if "synthetic" in s[0]]}
    acc = {}
    for g, srcs in groups.items():
        if srcs:
            res = evaluate(srcs, methods, scales=(4,), modes=("sensor",), progress=False, n_examples=0)
            acc[g] = {"rmse_cm": mean_rmse(res.rows), "frames": len(res.rows) // len(methods),
                      "sequences": [n for n, _ in srcs]}
    acc["generator"] = {"rmse_cm": generator_scenes(methods, a.scenes), "frames": a.scenes,
                        "sequences": [f"SceneGenerator(480, 640) seeds {HELD_OUT_SEED}+0..{a.scenes - 1}"]}
    for v in acc.values():
        r = v["rmse_cm"]
        v["ratio_to_bicubic"] = r["ours"] / r["bicubic"]

    checks = [("parameters", f"{params / 1e6:.2f} M", f"<= {LIMITS['params'] / 1e6:.0f} M", params <= LIMITS["params"]),
              (f"latency 160x120 + 640x480, {up.num_steps} steps", f"{latency:.0f} ms",
               f"<= {LIMITS['latency_ms']:.0f} ms", latency <= LIMITS["latency_ms"])]
    if "real" in acc:
        r = acc["real"]
        checks.append(("real x4: ours / bicubic RMSE", f"{r['ratio_to_bicubic']:.3f} "
                       f"({r['rmse_cm']['ours']:.2f} / {r['rmse_cm']['bicubic']:.2f} cm)",
                       f"<= {LIMITS['real_ratio']}", r["ratio_to_bicubic"] <= LIMITS["real_ratio"]))
        checks.append(("real x4: ours vs guided filter RMSE", f"{r['rmse_cm']['ours']:.2f} vs "
                       f"{r['rmse_cm']['guided']:.2f} cm", "below", r["rmse_cm"]["ours"] < r["rmse_cm"]["guided"]))
    for g in ("rendered", "generator"):
        if g in acc:
            r = acc[g]
            checks.append((f"synthetic ({g}) x4: ours / bicubic RMSE", f"{r['ratio_to_bicubic']:.3f} "
                           f"({r['rmse_cm']['ours']:.2f} / {r['rmse_cm']['bicubic']:.2f} cm)",
                           f"<= {LIMITS['synthetic_ratio']}", r["ratio_to_bicubic"] <= LIMITS["synthetic_ratio"]))

    machine = machine_label(up)
    print(f"model {up.model_id} on {machine}")
    print("| target | measured | limit | met |\n|---|---|---|---|")
    for name, got, lim, ok in checks:
        print(f"| {name} | {got} | {lim} | {'yes' if ok else 'NO'} |")
    res = {"model_id": up.model_id, "machine": machine, "limits": LIMITS, "params": params,
           "latency_ms_median": latency, "accuracy_x4_sensor": acc,
           "checks": [{"target": n, "measured": g, "limit": lim, "met": bool(ok)} for n, g, lim, ok in checks],
           "time": time.strftime("%Y-%m-%d %H:%M:%S")}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

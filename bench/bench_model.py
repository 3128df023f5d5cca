"""Model benchmark: parameters, FLOPs, and latency of the shipped default at 160x120 depth + 640x480 RGB.

    python bench/bench_model.py [--weights NAME] [--device auto] [--repeats 7] [--threads 2]

Prints a table and writes bench/results/model.json. Latency = median of repeats after warm-up, whole
``Upscaler.upscale`` call (NumPy in, NumPy out), per number of diffusion steps, and at the default steps per
expert (a noisy and a clean frame: each runs one expert), without self-ensemble (ensemble 1, the live node's
default) and at the Upscaler's default ensemble (8 for the shipped model: one network run per copy); plus the
GRN's share and the procedural data generator's speed (training feed).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from dsr_diff_ros import Upscaler
from dsr_diff_ros.inference import resolve_weights
from dsr_diff_ros.data.degradations import degrade
from dsr_diff_ros.data.synthetic import SceneGenerator
from dsr_diff_ros.model.preprocess import prepare
from host import cpu_name  # this folder


def median_ms(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return float(np.median(ts) * 1000)


def latency_input() -> tuple[np.ndarray, np.ndarray]:
    """The benchmark frame: (120, 160) float32 depth in metres and (480, 640, 3) uint8 RGB, fixed seed (random
    depth: it reads as noisy, so the shipped default sends it to the sensor expert)."""
    rng = np.random.default_rng(0)
    depth = (1 + 3 * rng.random((120, 160))).astype(np.float32)
    return depth, rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)


def clean_latency_input() -> tuple[np.ndarray, np.ndarray]:
    """A clean frame of the same size: a procedural 640x480 scene, its depth bicubic-downsampled x4 (the
    shipped default sends it to the x4 clean expert)."""
    scene = SceneGenerator(480, 640)(0)
    return degrade(scene.depth, 4, "bicubic").astype(np.float32), scene.rgb


def holes_latency_input() -> tuple[np.ndarray, np.ndarray]:
    """The benchmark frame with 5 % of its depth pixels dropped (a sensor's holes: the holes expert when one ships)."""
    depth, rgb = latency_input()
    depth = depth.copy()
    depth[np.random.default_rng(1).random(depth.shape) < 0.05] = 0
    return depth, rgb


def expert_latencies(up, repeats: int, ensemble: int | None = 1) -> dict[str, float]:
    """Median ms of ``up.upscale`` at its default steps per benchmark frame, keyed "<frame> (<expert>)": each
    frame runs one expert, and the experts may differ in cost (a latency target holds for the slowest).
    ``ensemble``: self-ensemble size (1: the live node's default; None: the Upscaler's default)."""
    out = {}
    frames = [("noisy", latency_input()), ("clean", clean_latency_input())]
    if getattr(up, "holes", None) is not None:
        frames.append(("holes", holes_latency_input()))
    for kind, (depth, rgb) in frames:
        out[f"{kind} ({up.experts(depth, rgb)[0]})"] = round(median_ms(
            lambda: up.upscale(depth, rgb, ensemble=ensemble), repeats), 1)
    return out


def machine_label(up) -> str:
    """CPU and its vector ISA as torch uses it (latency differed 2-2.5x between two sessions' hosts), torch, threads."""
    return (f"{platform.machine()} {cpu_name()} ({torch.backends.cpu.get_cpu_capability()}), {os.cpu_count()} cores, "
            f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {up.device}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=None)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "model.json"))
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    up = Upscaler.from_pretrained(a.weights, device=a.device)
    m = up.model
    depth, rgb = latency_input()
    parts = ("ggn", "dsrn", "grn") + (("refine",) if m.refine is not None else ())
    params = {k: sum(p.numel() for p in getattr(m, k).parameters()) for k in parts}
    runtime_params = sum(v for k, v in params.items() if k != "ggn")
    d_t = torch.from_numpy(depth)[None, None].to(up.device)
    r_t = torch.from_numpy(rgb).permute(2, 0, 1)[None].float().div(255).to(up.device)
    with torch.inference_mode(), FlopCounterMode(display=False) as fc:
        m(d_t, r_t, steps=up.num_steps)
    flops = fc.get_total_flops()
    with torch.inference_mode():
        p = prepare(d_t, r_t, m.cfg.unshuffle)
        grn_ms = median_ms(lambda: m.grn(p.rgb, p.lr_grid, up.num_steps), a.repeats)
    rows = []
    for steps in range(1, up.num_steps + 1):
        rows.append({"steps": steps, "ms_median": round(median_ms(lambda: up.upscale(depth, rgb, steps=steps,
                                                                                     ensemble=1), a.repeats), 1)})
    by_expert = expert_latencies(up, a.repeats)
    by_expert_ens = expert_latencies(up, max(3, a.repeats // 2), ensemble=None)
    in_turn = {}
    if up.ensemble_batch > 1:   # GPU: the same ensemble with one copy per pass, what the batching saves
        batch, up.ensemble_batch = up.ensemble_batch, 1
        in_turn = expert_latencies(up, max(3, a.repeats // 2), ensemble=None)
        up.ensemble_batch = batch
    gen = SceneGenerator(128, 128)
    t = time.perf_counter()
    for s in range(20):
        gen(s)
    gen_ms = (time.perf_counter() - t) / 20 * 1000
    size_mb = round(resolve_weights(a.weights).stat().st_size / 1e6, 2)
    res = {
        "machine": machine_label(up),
        "model_id": up.model_id, "input": "depth 160x120 + RGB 640x480 -> 640x480",
        "params_total": sum(params.values()), "params_runtime (all but GGN)": runtime_params, "params": params,
        "gflops_per_frame_T_steps": round(flops / 1e9, 2), "grn_ms_all_steps": round(grn_ms, 2),
        "latency": rows, "latency_by_expert_default_steps": by_expert,
        f"latency_by_expert_default_steps_ensemble{up.default_ensemble}": by_expert_ens, "generator_ms_per_128x128_scene": round(gen_ms, 1), "weights_mb": size_mb,
    }
    if in_turn:
        res["ensemble_copies_per_pass"] = up.ensemble_batch
        res[f"latency_by_expert_default_steps_ensemble{up.default_ensemble}_one_copy_per_pass"] = in_turn
    print(f"model {up.model_id} on {res['machine']}")
    print(f"parameters: total {res['params_total'] / 1e6:.2f} M (run time, all but GGN: {runtime_params / 1e6:.2f} M); "
          f"{res['gflops_per_frame_T_steps']} GFLOPs per 640x480 frame; GRN (all {up.num_steps} steps) "
          f"{grn_ms:.1f} ms")
    print("| steps | median ms (640x480) |\n|---|---|")
    for r in rows:
        print(f"| {r['steps']} | {r['ms_median']} |")
    print("default steps, per frame kind (expert): " + ", ".join(f"{k} {v} ms" for k, v in by_expert.items()))
    print(f"the same at the default ensemble ({up.default_ensemble}): "
          + ", ".join(f"{k} {v} ms" for k, v in by_expert_ens.items()))
    if in_turn:
        print(f"the same with one copy per pass instead of {up.ensemble_batch}: "
              + ", ".join(f"{k} {v} ms" for k, v in in_turn.items()))
    print(f"scene generator: {gen_ms:.1f} ms per 128x128 RGB-D scene")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

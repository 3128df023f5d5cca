#!/usr/bin/env python3
"""The model issue's targets in one table: size, latency and accuracy of a checkpoint, each against its limit,
with the classical peers (bicubic, guided filter, joint bilateral upsampling, domain transform) beside ours.

    python bench/bench_targets.py [--weights NAME] [--data ../shared/data] [--threads 0] [--every 2]

Sets (``--data`` holds them; missing ones are skipped and listed):
- tune (looked at while designing; never trained on): rgbdd_train's tune split (capture dates
  data.real.RGBDD_TUNE_DATES; every ``--every``-th pair) and middlebury_train's tune scenes: bicubic protocol
  x4/x8/x16 (limits 0.6/0.65/0.7 of bicubic's RMSE), the heavy-noise protocol x4/x8/x16 (``degrade(mode="noisy")``:
  below guided and domain transform), and flat-region RMSE <= bicubic's in every row.
- report (scored once per candidate, never tuned on): nyu_v2_samples (NYU protocol, x4: <= 0.6 of bicubic) and
  the real Kinect sequences of rgbd/ (sensor mode: x4 <= 0.65 of bicubic, below guided and domain transform at
  x4/x8/x16; and the bicubic protocol on the same depth, its holes grown by the bicubic support, x4/x8/x16:
  <= bicubic's RMSE); flat-region RMSE <= bicubic's in every row of every set.
Latency: median ``Upscaler.upscale`` of 160x120 depth + 640x480 RGB at the default steps, for a noisy and a clean
frame (each runs one expert; the target holds for the slower), without self-ensemble (the live node's default) and
at the Upscaler's default ensemble (the accuracy rows use that default: 8 for the shipped model).
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

from dsr_diff_ros.data.folder import RGBDFolder  # noqa: E402
from dsr_diff_ros.data.shared import shared_path  # noqa: E402
from dsr_diff_ros.evaluation.datasets import RealSplit  # noqa: E402
from dsr_diff_ros.evaluation.protocols import evaluate, methods_for, upscaler_method  # noqa: E402

from _common import kinect_report_sequences  # noqa: E402  (this folder)
from bench_model import expert_latencies, machine_label, median_ms  # noqa: E402  (this folder)

PEERS = ["bicubic", "guided", "jbu", "dtf"]
LIMITS = {"params": 5e6, "latency_ms": 250.0, "bicubic_x4": 0.6, "bicubic_x8": 0.65, "bicubic_x16": 0.7,
          "nyu_x4": 0.6, "kinect_x4": 0.65}
KINECT_DRAWS = (0, 1, 2, 3)   # seeds of the simulated sensor on the Kinect frames (the main rows use the first)


def summary(res) -> dict:
    """{(mode, scale): {method: {rmse, flat_rmse, edge_rmse}}}."""
    out: dict = {}
    for s in res.summary():
        out.setdefault((s["mode"], s["scale"]), {})[s["method"]] = {k: s[k] for k in ("rmse", "flat_rmse",
                                                                                     "edge_rmse")}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=None, help="checkpoint name or path (default: the shipped default)")
    ap.add_argument("--data", default=str(shared_path() or ""), help="the shared data folder")
    ap.add_argument("--every", type=int, default=2, help="RGB-D-D tune split: every n-th pair")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "targets.json"))
    a = ap.parse_args()
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    up, methods = methods_for(PEERS + ["ours"], a.weights, a.device)
    if up is None:
        print("bench_targets: the model could not be loaded", file=sys.stderr)
        return 2
    ours = ["ours"]
    if up.default_ensemble > 1:   # the ablation of the self-ensemble, beside every row
        methods["ours_ens1"] = upscaler_method(up, None, 1)
        ours.append("ours_ens1")
    # every expert counts (each frame runs one of them)
    nets = [up.model, up.clean, up.holes, up.sparse] + [m for *_, m in up.clean_bands]
    params = sum(p.numel() for m in nets if m is not None for p in m.parameters())
    by_expert = expert_latencies(up, a.repeats)
    latency = max(by_expert.values())  # each frame runs one expert: the target holds for the slowest
    ens = up.default_ensemble
    by_expert_ens = expert_latencies(up, max(3, a.repeats // 2), ensemble=None) if ens > 1 else by_expert
    root = Path(a.data) if a.data else None
    results, skipped, checks, kinect_draws = {}, [], [], None

    def add(name, measured, limit, ok):
        checks.append((name, measured, limit, bool(ok)))

    def ratio(t, m="ours", ref="bicubic"):
        return t[m]["rmse"] / t[ref]["rmse"]

    def flat_check(label, s):
        """Flat-region RMSE (away from depth edges) <= bicubic's, for every protocol and scale of a real set."""
        worse = {f"{mode} x{sc:g}": (t["ours"]["flat_rmse"], t["bicubic"]["flat_rmse"]) for (mode, sc), t in s.items()
                 if t["ours"]["flat_rmse"] > t["bicubic"]["flat_rmse"]}
        rows = ", ".join(f"{k} {a:.3g} vs {b:.3g}" for k, (a, b) in worse.items())
        add(f"{label}: flat-region RMSE ours <= bicubic in all {len(s)} rows",
            f"worse in {rows}" if worse else "all rows", "<=", not worse)

    add("parameters", f"{params / 1e6:.2f} M", "<= 5 M", params <= LIMITS["params"])
    add(f"latency 160x120 + 640x480, {up.default_steps} steps, slowest expert, ensemble 1 (live node)",
        f"{latency:.0f} ms (" + ", ".join(f"{k} {v:.0f}" for k, v in by_expert.items()) + ")", "<= 250 ms",
        latency <= LIMITS["latency_ms"])
    if ens > 1:
        add(f"latency as above at the default ensemble {ens} (the accuracy rows below)",
            f"{max(by_expert_ens.values()):.0f} ms (" + ", ".join(f"{k} {v:.0f}" for k, v in by_expert_ens.items())
            + ")", "<= 250 ms", max(by_expert_ens.values()) <= LIMITS["latency_ms"])
    sets = [("rgbdd tune", "rgbdd_train", "sensor", lambda p: [("rgbdd_tune", RealSplit(p, "rgbdd", "tune", a.every))]),
            ("middlebury tune", "middlebury_train", "middlebury",
             lambda p: [("middlebury_tune", RealSplit(p, "middlebury", "tune"))])]
    for label, sub, proto, make in sets:
        if root is None or not (root / sub).is_dir():
            skipped.append(label)
            continue
        src = make(root / sub)
        s = summary(evaluate(src, methods, scales=(4, 8, 16), protocol=proto, modes=("bicubic",), progress=False,
                             n_examples=0))
        s.update(summary(evaluate(src, methods, scales=(4, 8, 16), protocol=proto, modes=("noisy",),
                                  progress=False, n_examples=0)))
        results[label] = s
        for sc in (4, 8, 16):
            t = s[("bicubic", sc)]
            add(f"{label} bicubic x{sc}: ours / bicubic", f"{ratio(t):.3f}", f"<= {LIMITS[f'bicubic_x{sc}']}",
                ratio(t) <= LIMITS[f"bicubic_x{sc}"])
        for sc in (4, 8, 16):
            t = s[("noisy", sc)]
            add(f"{label} heavy noise x{sc}: ours vs guided / domain transform",
                f"{t['ours']['rmse']:.3g} vs {t['guided']['rmse']:.3g} / {t['dtf']['rmse']:.3g}", "below both",
                t["ours"]["rmse"] < min(t["guided"]["rmse"], t["dtf"]["rmse"]))
        flat_check(label, s)
    if root is not None and (root / "nyu_v2_samples").is_dir():
        s = summary(evaluate([("nyu_v2_samples", RGBDFolder(root / "nyu_v2_samples"))], methods, scales=(4, 8, 16),
                             protocol="nyu", progress=False, n_examples=0))
        results["nyu report"] = s
        t = s[("bicubic", 4)]
        add("NYU samples (report) bicubic x4: ours / bicubic", f"{ratio(t):.3f}", "<= 0.6", ratio(t) <= LIMITS["nyu_x4"])
        flat_check("NYU samples (report)", s)
    else:
        skipped.append("nyu report")
    if root is not None and (root / "rgbd").is_dir():
        real = kinect_report_sequences(root / "rgbd")
        s = summary(evaluate(real, methods, scales=(4, 8, 16), protocol="sensor", modes=("sensor",), progress=False,
                             n_examples=0))
        results["kinect report"] = s
        t = s[("sensor", 4)]
        add("Kinect frames (report) sensor x4: ours / bicubic", f"{ratio(t):.3f}", "<= 0.65",
            ratio(t) <= LIMITS["kinect_x4"])
        for sc in (4, 8, 16):
            t = s[("sensor", sc)]
            add(f"Kinect frames (report) sensor x{sc}: ours vs guided / domain transform",
                f"{t['ours']['rmse']:.2f} vs {t['guided']['rmse']:.2f} / {t['dtf']['rmse']:.2f} cm", "below both",
                t["ours"]["rmse"] < min(t["guided"]["rmse"], t["dtf"]["rmse"]))
        # the simulated sensor's draw alone moves that row by 4-7 %: the same x4 over four draws (seed 0 above)
        sub = {k: methods[k] for k in ["bicubic"] + ours}
        draws = [s[("sensor", 4)]] + [summary(evaluate(real, sub, scales=(4,), protocol="sensor", modes=("sensor",),
                                                       progress=False, n_examples=0, seed=k))[("sensor", 4)]
                                      for k in KINECT_DRAWS[1:]]
        mean = {m: {"rmse": float(np.mean([d[m]["rmse"] for d in draws]))} for m in sub}
        kinect_draws = {"seeds": list(KINECT_DRAWS), "rmse": {m: [d[m]["rmse"] for d in draws] for m in sub}}
        add(f"Kinect frames (report) sensor x4, mean RMSE over {len(draws)} sensor draws: ours / bicubic"
            + (f" (one pass {ratio(mean, 'ours_ens1'):.3f})" if "ours_ens1" in mean else ""),
            f"{ratio(mean):.3f}", "<= 0.65", ratio(mean) <= LIMITS["kinect_x4"])
        flat_check("Kinect frames (report)", s)
        # the bicubic protocol on the same depth (its holes grown by the bicubic support: 23-61 % of the LR left),
        # as a public test set whose ground truth has holes would be scored: beat bicubic there too
        b = summary(evaluate(real, methods, scales=(4, 8, 16),
                             protocol="sensor", modes=("bicubic",), progress=False, n_examples=0))
        results["kinect report, bicubic protocol"] = b
        for sc in (4, 8, 16):
            t = b[("bicubic", sc)]
            add(f"Kinect frames (report) bicubic protocol x{sc}: ours / bicubic", f"{ratio(t):.3f}", "<= 1",
                ratio(t) <= 1.0)
        flat_check("Kinect frames (report) bicubic protocol", b)
    else:
        skipped.append("kinect report")

    machine = machine_label(up)
    print(f"model {up.model_id} on {machine}" + (f"; skipped (data absent): {', '.join(skipped)}" if skipped else ""))
    print("| target | measured | limit | met |\n|---|---|---|---|")
    for name, got, lim, ok in checks:
        print(f"| {name} | {got} | {lim} | {'yes' if ok else 'NO'} |")
    print("\nRMSE per set (unit: cm; Middlebury: 0-255 scale)")
    print("| set | mode | scale | " + " | ".join(PEERS + ours) + " | ours flat | bicubic flat |")
    print("|---|---|---|" + "---|" * (len(PEERS) + len(ours) + 2))
    for label, s in results.items():
        for (mode, sc), t in s.items():
            print(f"| {label} | {mode} | x{sc:g} | " + " | ".join(f"{t[m]['rmse']:.3g}" for m in PEERS + ours)
                  + f" | {t['ours']['flat_rmse']:.3g} | {t['bicubic']['flat_rmse']:.3g} |")
    res = {"model_id": up.model_id, "machine": machine, "limits": LIMITS, "params": params,
           "latency_ms_median": latency, "latency_ms_by_expert": by_expert, "default_ensemble": ens,
           "latency_ms_by_expert_default_ensemble": by_expert_ens, "default_steps": up.default_steps, "skipped": skipped,
           "results": {label: {f"{mode} x{sc:g}": t for (mode, sc), t in s.items()} for label, s in results.items()},
           "kinect_report_x4_draws": kinect_draws,
           "checks": [{"target": n, "measured": g, "limit": lim, "met": ok} for n, g, lim, ok in checks],
           "time": time.strftime("%Y-%m-%d %H:%M:%S")}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

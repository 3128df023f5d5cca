"""Benchmark of ``dsr-diff-adapt``: does adapting to a recording (without ground truth) help on its other frames?

Recordings are built from data with high-resolution ground truth (``../shared/data``, see ``data.shared``) and
written as real rosbag2 (mcap) files; ``adapt`` reads the bag of the adaptation frames (the ground-truth topic
is in the bag and is never read), the other frames are scored against the ground truth (RMSE, cm, valid
ground-truth pixels, ``Upscaler.upscale`` as shipped: default steps, holes filled).

  unseen:  Middlebury scenes (368x408 crops, depth = 200 / disparity value, 0.8-5 m) through a ToF-like sensor
           the base model was not trained for: 118x106 depth (ratio 3.46, non-integer), noise 4 % of depth,
           4 % blob holes + edge holes + flying pixels, colour displaced by (5, 2) px. Adapt on 18 scenes,
           score on the other 9 (every third, which includes the 5 scenes the base model never trained on).
  in-distribution: the same scenes through a Kinect-like sensor inside the training mix (x4, sigma = 1.5e-3 z^2,
           2 % holes, no offset): adaptation must not make it worse by more than 2 %.
  --frames300: time and peak memory of the CLI on a 300-frame recording (the 18 adaptation scenes, re-simulated
           with fresh noise, repeated), default budget.

    python bench/bench_adapt.py [--base WEIGHTS] [--budget 240] [--scope dsrn] [--frames300]

Prints a table and writes bench/results/adapt.json (``--out``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dsr_diff_ros.adapt import AdaptConfig, adapt  # noqa: E402
from dsr_diff_ros.adapt.simulate import SimSensor, simulate, write_bag  # noqa: E402
from dsr_diff_ros.data.shared import missing_reason, shared_path  # noqa: E402
from dsr_diff_ros.inference import Upscaler, resolve_weights  # noqa: E402

UNSEEN = SimSensor(lr_size=(118, 106), noise="linear", noise_std=0.04, hole_rate=0.04, edge_holes=0.3, flying=0.3,
                   offset_px=(5.0, 2.0), seed=1)
IN_DIST = SimSensor(lr_size=(102, 92), noise="quadratic", noise_std=1.5e-3, hole_rate=0.02, edge_holes=0.3,
                    flying=0.2, offset_px=(0.0, 0.0), seed=2)
CROP = (368, 408)


def middlebury_frames() -> tuple[list, list, list]:
    """(names, rgb (368,416,3) uint8, depth (368,416) metres) of the 27 Middlebury training scenes."""
    root = shared_path("middlebury_train")
    if root is None:
        raise SystemExit(f"bench_adapt: {missing_reason('middlebury_train')}")
    names, rgbs, depths = [], [], []
    for cp in sorted(root.glob("*_color.png")):
        c = cv2.cvtColor(cv2.imread(str(cp)), cv2.COLOR_BGR2RGB)
        v = cv2.imread(str(cp).replace("_color", "_depth"), cv2.IMREAD_UNCHANGED).astype(np.float32)
        H, W = v.shape
        y, x = (H - CROP[0]) // 2, (W - CROP[1]) // 2
        c, v = c[y:y + CROP[0], x:x + CROP[1]], v[y:y + CROP[0], x:x + CROP[1]]
        names.append(cp.name[:2])
        rgbs.append(np.ascontiguousarray(c))
        depths.append(np.where(v > 0, 200.0 / np.maximum(v, 1.0), 0).astype(np.float32))
    return names, rgbs, depths


def split(n: int) -> tuple[list[int], list[int]]:
    score = list(range(2, n, 3))
    return [i for i in range(n) if i not in score], score


def rmse_cm(up: Upscaler, rgbs: list, lrs: list, gts: list) -> float:
    errs = []
    for r, l, g in zip(rgbs, lrs, gts):
        out = up.upscale(l, r)
        v = (g > 0) & np.isfinite(out)
        errs.append(float(np.sqrt(np.mean((out[v] - g[v]) ** 2))) * 100)
    return float(np.mean(errs))


def bicubic_cm(rgbs: list, lrs: list, gts: list) -> float:
    from dsr_diff_ros.evaluation import baselines

    errs = []
    for r, l, g in zip(rgbs, lrs, gts):
        out = baselines.get_method("bicubic")(l, r, fill_holes=True)
        v = (g > 0) & np.isfinite(out)
        errs.append(float(np.sqrt(np.mean((out[v] - g[v]) ** 2))) * 100)
    return float(np.mean(errs))


def run_case(name: str, sensor: SimSensor, data, cfg: AdaptConfig, work: Path) -> dict:
    names, rgbs, depths = data
    tr, sc = split(len(rgbs))
    cols, lrs = simulate(rgbs, depths, sensor)
    bag = work / f"{name}_bag"
    write_bag(bag, [cols[i] for i in tr], [lrs[i] for i in tr], [depths[i] for i in tr])
    out = work / f"{name}_adapted"
    res = adapt(bag, out, cfg, progress=False, resume=False)
    s_rgb, s_lr, s_gt = [cols[i] for i in sc], [lrs[i] for i in sc], [depths[i] for i in sc]
    base = rmse_cm(Upscaler.from_pretrained(cfg.base, device="cpu"), s_rgb, s_lr, s_gt)
    new = rmse_cm(Upscaler.from_pretrained(str(out), device="cpu"), s_rgb, s_lr, s_gt)
    p = res.profile
    return {"case": name, "sensor": sensor.to_dict(), "adapt_frames": [names[i] for i in tr],
            "score_frames": [names[i] for i in sc], "rmse_cm": {"bicubic": bicubic_cm(s_rgb, s_lr, s_gt),
                                                               "base": base, "adapted": new},
            "change": new / base - 1, "adapted": res.adapted, "reason": res.reason, "iterations": res.iterations,
            "time_s": res.time_s, "holdout": res.holdout,
            "profile": {"noise_law": p["noise_law"], "noise_coef": p["noise_coef"], "offset_px": p["offset_px"],
                        "hole_rate": p["hole_rate"], "ratio": p["ratio"]}}


def frames300(data, work: Path, base: str | None, budget: float | None) -> dict:
    """Time and peak RSS of `dsr-diff-adapt` (a subprocess) on a 300-frame mcap recording."""
    names, rgbs, depths = data
    tr, _ = split(len(rgbs))
    cols, lrs = [], []
    for rep in range(int(np.ceil(300 / len(tr)))):
        c, l = simulate([rgbs[i] for i in tr], [depths[i] for i in tr], replace(UNSEEN, seed=100 + rep))
        cols += c
        lrs += l
    bag = work / "rec300"
    write_bag(bag, cols[:300], lrs[:300])
    cmd = [sys.executable, "-m", "dsr_diff_ros.cli.adapt", str(bag), "--out", str(work / "rec300_adapted"),
           "--no-progress", "--fresh"] + (["--base", base] if base else []) + \
          (["--budget", str(budget)] if budget else [])
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    wall = time.time() - t0
    rss = [resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]   # KiB, the largest child: the CLI
    meta = json.loads((work / "rec300_adapted.json").read_text())["adaptation"] if p.returncode == 0 else {}
    return {"frames": 300, "returncode": p.returncode, "wall_s": round(wall, 1),
            "peak_rss_mb": round(rss[0] / 1024, 1) if rss else None, "time_s": meta.get("time_s"),
            "iterations": meta.get("iterations"), "adapted": meta.get("adapted"),
            "stderr_tail": p.stderr[-600:] if p.returncode else ""}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default=None, help="base weights (default: the shipped default)")
    ap.add_argument("--budget", type=float, default=240.0, help="adaptation seconds per case")
    ap.add_argument("--scope", default=AdaptConfig.scope)
    ap.add_argument("--cases", default="unseen,in_distribution")
    ap.add_argument("--frames300", action="store_true", help="also time a 300-frame adaptation (CLI, default budget)")
    ap.add_argument("--frames300-budget", type=float, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "adapt.json"))
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    cfg = AdaptConfig(base=a.base, budget_s=a.budget, scope=a.scope, threads=a.threads)
    data = middlebury_frames()
    st = resolve_weights(a.base)
    results = {"base_weights": str(st.relative_to(REPO)) if st.is_relative_to(REPO) else st.name,
               "config": {**cfg.to_dict(), "base": Path(a.base).name if a.base else None}, "machine": f"{platform.machine()} {os.cpu_count()} cores, torch "
               f"{torch.__version__}, {a.threads} thread(s)", "date": time.strftime("%Y-%m-%d"), "cases": []}
    sensors = {"unseen": UNSEEN, "in_distribution": IN_DIST}
    with tempfile.TemporaryDirectory() as tmp:
        for c in filter(None, a.cases.split(",")):
            results["cases"].append(run_case(c, sensors[c], data, cfg, Path(tmp)))
            print(json.dumps(results["cases"][-1]["rmse_cm"]), results["cases"][-1]["reason"], flush=True)
        if a.frames300:
            results["frames300"] = frames300(data, Path(tmp), a.base, a.frames300_budget)
    print(f"\nbase weights: {results['base_weights']}; {results['machine']}; budget {a.budget:.0f} s, scope {a.scope}")
    print("| recording | bicubic RMSE cm | base RMSE cm | adapted RMSE cm | change | kept | iterations |")
    print("|---|---|---|---|---|---|---|")
    for r in results["cases"]:
        m = r["rmse_cm"]
        print(f"| {r['case']} | {m['bicubic']:.2f} | {m['base']:.2f} | {m['adapted']:.2f} | {r['change']:+.1%} | "
              f"{'yes' if r['adapted'] else 'no'} | {r['iterations']} |")
    for r in results["cases"]:
        p, s = r["profile"], r["sensor"]
        print(f"{r['case']}: profile noise {p['noise_law']} {p['noise_coef']:.4f} (made with {s['noise']} "
              f"{s['noise_std']}), offset {p['offset_px']} (made with {s['offset_px']}), holes {p['hole_rate']:.1%}")
    if "frames300" in results:
        f = results["frames300"]
        print(f"300-frame recording: {f['wall_s']} s wall, peak RSS {f['peak_rss_mb']} MB, stages {f['time_s']}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(results, indent=1))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

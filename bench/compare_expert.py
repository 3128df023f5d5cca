#!/usr/bin/env python3
"""A candidate expert against the shipped one on the tune split, through the Upscaler (each frame routed as
shipped, only that expert swapped), in one pass and with 8 copies.

    python bench/compare_expert.py EXPERT CANDIDATE [--every 4] [--threads 0] [--data ../shared/data]

EXPERT: clean_x4 | clean_x8 (the clean bands) | clean_x16 (the clean expert above them) | sensor (v2) | holes.
Each is scored on the inputs it serves: bicubic x2/x4, x8 or x16 for the clean experts, the evaluation's sensor
mode at x4/x8 for the holes expert, the sensor mode at x8/x16 for v2 (the inputs with holes above the holes
expert's max ratio; heavy noise and hole-filled sensors go to the clean experts since the fifteenth session).
Sets: RGB-D-D tune (every ``--every``-th scene) and the Middlebury tune scenes. Prints RMSE per row (cm;
Middlebury: 0-255 scale) for bicubic, shipped and candidate; the twelfth session's verdicts in docs/model.md came from it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dsr_diff_ros import Upscaler  # noqa: E402
from dsr_diff_ros.data.shared import shared_path  # noqa: E402
from dsr_diff_ros.evaluation.datasets import RealSplit  # noqa: E402
from dsr_diff_ros.evaluation.protocols import build_methods, evaluate, upscaler_method  # noqa: E402
from dsr_diff_ros.model.checkpoint import load_weights  # noqa: E402

PLAN = {"clean_x4": [((2, 4), ("bicubic",))], "clean_x8": [((8,), ("bicubic",))],
        "clean_x16": [((16,), ("bicubic",))],
        "sensor": [((8, 16), ("sensor",))], "holes": [((4, 8), ("sensor",))]}


def swap(up: Upscaler, expert: str, m: torch.nn.Module) -> None:
    if expert == "sensor":
        up.model = m
    elif expert == "holes":
        up.holes = m
    elif expert == up.clean_name:
        up.clean = m
    elif any(n == expert for _, n, _ in up.clean_bands):
        up.clean_bands = [(r, n, m if n == expert else e) for r, n, e in up.clean_bands]
    else:
        raise SystemExit(f"compare_expert: no expert {expert!r} in the shipped weights")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("expert", choices=sorted(PLAN))
    ap.add_argument("candidate", help="weights path (without suffix)")
    ap.add_argument("--every", type=int, default=4)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--data", default=str(shared_path() or ""))
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    root = Path(a.data)
    ship, cand = Upscaler.from_pretrained(device="cpu"), Upscaler.from_pretrained(device="cpu")
    swap(cand, a.expert, load_weights(Path(a.candidate))[0].eval().to(memory_format=torch.channels_last))
    methods = build_methods(["bicubic"])
    methods.update({"shipped 1": upscaler_method(ship, None, 1), "shipped 8": upscaler_method(ship, None, 8),
                    "candidate 1": upscaler_method(cand, None, 1), "candidate 8": upscaler_method(cand, None, 8)})
    sets = (("rgbdd", [("rgbdd_tune", RealSplit(root / "rgbdd_train", "rgbdd", "tune", a.every))], "sensor"),
            ("middlebury", [("mb_tune", RealSplit(root / "middlebury_train", "middlebury", "tune"))], "middlebury"))
    print("| set | mode | scale | " + " | ".join(methods) + " |\n|---|---|---|" + "---|" * len(methods))
    for label, src, proto in sets:
        for scales, modes in PLAN[a.expert]:
            res = evaluate(src, methods, scales=scales, protocol=proto, modes=modes, progress=False, n_examples=0)
            rows: dict = {}
            for s in res.summary():
                rows.setdefault((s["mode"], s["scale"]), {})[s["method"]] = s["rmse"]
            for (mode, sc), t in rows.items():
                print(f"| {label} | {mode} | x{sc:g} | " + " | ".join(f"{t[m]:.4f}" for m in methods) + " |",
                      flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

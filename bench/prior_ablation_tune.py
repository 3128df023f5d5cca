"""The prior ablation (``evaluation.prior_ablation``: oracle / GRN / mean / other frame's / zero prior, steps 1..T)
of one shipped expert on the TUNE split (RGB-D-D every n-th + the Middlebury tune scenes).

    python bench/prior_ablation_tune.py [--weights dsr_diff_sensor_holes] [--mode sensor] [--scale 4] [--every 4]

Prints the markdown table; writes ``bench/results/prior_ablation_tune_<weights>_<mode>_x<scale>.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import tune_root  # noqa: E402
from dsr_diff_ros import Upscaler  # noqa: E402
from dsr_diff_ros.data.shared import shared_path  # noqa: E402
from dsr_diff_ros.evaluation.prior_ablation import markdown, prior_ablation  # noqa: E402
from dsr_diff_ros.training.trainer import tune_frames  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default="dsr_diff_sensor_holes")
    ap.add_argument("--mode", default="sensor", choices=("bicubic", "noisy", "sensor"))
    ap.add_argument("--scale", type=float, default=4)
    ap.add_argument("--every", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", default=str(shared_path() or ""))
    a = ap.parse_args()
    root = tune_root(a.data, "prior_ablation_tune")
    if root is None:
        return 2
    torch.set_num_threads(a.threads)
    up = Upscaler.from_pretrained(a.weights, device="cpu")
    frames = tune_frames(root, a.every, start=1)
    res = prior_ablation(up, frames, a.scale, a.mode)
    print(f"{a.weights}, tune split (every {a.every}):")
    print(markdown(res))
    out = Path(__file__).resolve().parent / "results" / f"prior_ablation_tune_{a.weights}_{a.mode}_x{a.scale:g}.json"
    out.write_text(json.dumps({"weights": a.weights, "every": a.every, **res}, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A holes-expert candidate against the shipped one on the tune inputs with holes, through the shipped routing
(``hole_fill``, the hedge, the default self-ensemble), per input kind. (TUNE split)

    python bench/compare_holes_expert.py CANDIDATE [CANDIDATE ...] [--scales 4] [--every 4] [--threads 1]
                                         [--ensemble N]

The inputs are ``calibrate_hole_fill.py``'s (bicubic with a sensor's holes, the Kinect-like native frame through
the bicubic, heavy-noise and sensor protocols, random sensors). The holes expert serves ratios up to its
``max_ratio`` (4.62), so x4 is the scale that tells. Prints, per candidate, the geometric mean of candidate /
shipped RMSE per kind and over all; the seventeenth session chose its holes expert with it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import rmse_cm, tune_root  # noqa: E402
from calibrate_hole_fill import tune_inputs  # noqa: E402
from dsr_diff_ros import Upscaler  # noqa: E402
from dsr_diff_ros.data.shared import shared_path  # noqa: E402
from dsr_diff_ros.inference import resolve_weights  # noqa: E402
from dsr_diff_ros.model.checkpoint import load_weights  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("candidates", nargs="+", help="weights names or paths (a run's stage2, a snapshot)")
    ap.add_argument("--scales", default="4")
    ap.add_argument("--every", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ensemble", type=int, default=None, help="self-ensemble size (default: the weights')")
    ap.add_argument("--data", default=str(shared_path() or ""))
    a = ap.parse_args()
    root = tune_root(a.data, "compare_holes_expert")
    if root is None:
        return 2
    torch.set_num_threads(a.threads)
    up = Upscaler.from_pretrained(device="cpu", ensemble=a.ensemble)
    shipped = {k: v.clone() for k, v in up.holes.state_dict().items()}
    cands = {c: load_weights(resolve_weights(c))[0].state_dict() for c in a.candidates}
    logs: dict = {}
    for _, rgb, s, kind, lr, gt in tune_inputs(root, a.every, a.scales):
        up.holes.load_state_dict(shipped)
        ref = rmse_cm(up.upscale(lr, rgb), gt)
        for c, sd in cands.items():
            up.holes.load_state_dict(sd)
            err = rmse_cm(up.upscale(lr, rgb), gt)
            logs.setdefault(c, {}).setdefault(f"{kind} x{s:g}", []).append(np.log(err / ref))
    up.holes.load_state_dict(shipped)
    for c, per in logs.items():
        every = [x for v in per.values() for x in v]
        print(f"{c}: " + "  ".join(f"{k} {np.exp(np.mean(v)):.4f}" for k, v in sorted(per.items()))
              + f"  all {np.exp(np.mean(every)):.4f} ({len(every)} inputs, ensemble {up.default_ensemble})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A sparse-expert candidate on the tune inputs that run hole-filled: the shipped routing without it, with it, and
the guided filter, per input kind and scale. (TUNE split)

    python bench/compare_sparse_expert.py CANDIDATE [CANDIDATE ...] [--scales 8,16] [--max-valid 0.5]
                                          [--min-ratio 5.66] [--every 4] [--threads 1] [--out JSON]

The inputs are ``calibrate_hole_fill.py``'s; those with fewer than ``--max-valid`` of their LR pixels valid (the
frames ``hole_fill`` fills, or with a value above 0.5 the hedged ones too) are scored through the shipped routing
(default self-ensemble) without a sparse expert (labelled "shipped": the routing before the nineteenth session, which
shipped one), and with the candidate as ``Upscaler``'s sparse expert (``sparse_max_valid``, ``sparse_min_ratio``).
Prints, per kind and scale, the geometric mean of candidate / "shipped" and guided / "shipped" RMSE; the eighteenth
to twentieth sessions chose and checked the sparse expert with it.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import rmse_cm, tune_root  # noqa: E402
from calibrate_hole_fill import tune_inputs  # noqa: E402
from dsr_diff_ros import Upscaler  # noqa: E402
from dsr_diff_ros.data.shared import shared_path  # noqa: E402
from dsr_diff_ros.evaluation.baselines import guided  # noqa: E402
from dsr_diff_ros.inference import resolve_weights  # noqa: E402
from dsr_diff_ros.model.checkpoint import load_weights  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("candidates", nargs="+", help="weights names or paths (a run's stage2, a snapshot)")
    ap.add_argument("--scales", default="8,16")
    ap.add_argument("--max-valid", type=float, default=0.5)
    ap.add_argument("--min-ratio", type=float, default=5.66)
    ap.add_argument("--every", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ensemble", type=int, default=None, help="self-ensemble size (default: the weights')")
    ap.add_argument("--data", default=str(shared_path() or ""))
    ap.add_argument("--out", default=None, help="write the per-input RMSE here (JSON)")
    a = ap.parse_args()
    root = tune_root(a.data, "compare_sparse_expert")
    if root is None:
        return 2
    torch.set_num_threads(a.threads)
    up = Upscaler.from_pretrained(device="cpu", ensemble=a.ensemble)
    cands = {c: load_weights(resolve_weights(c))[0].eval() for c in a.candidates}
    rows, logs = [], {}
    for name, rgb, s, kind, lr, gt in tune_inputs(root, a.every, a.scales):
        share = float((lr > 0).mean())
        if share >= a.max_valid:
            continue
        up.sparse = None
        row = {"frame": name, "scale": s, "kind": kind, "valid": share, "shipped": rmse_cm(up.upscale(lr, rgb), gt),
               "guided": rmse_cm(guided(lr, rgb), gt)}
        up.sparse_max_valid, up.sparse_min_ratio = a.max_valid, a.min_ratio
        for c, m in cands.items():
            up.sparse = m
            row[c] = rmse_cm(up.upscale(lr, rgb), gt)
        up.sparse = None
        rows.append(row)
        key = f"{kind} x{s:g}"
        for c in [*cands, "guided"]:
            logs.setdefault(c, {}).setdefault(key, []).append(np.log(row[c] / row["shipped"]))
    for c, per in logs.items():
        every = [x for v in per.values() for x in v]
        print(f"{c} / shipped: " + "  ".join(f"{k} {np.exp(np.mean(v)):.4f} ({len(v)})" for k, v in sorted(per.items()))
              + f"  all {np.exp(np.mean(every)):.4f} ({len(every)} inputs, ensemble {up.default_ensemble})")
    if a.out:
        Path(a.out).write_text(json.dumps({"max_valid": a.max_valid, "min_ratio": a.min_ratio, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Each self-ensemble orientation's error on its own, per tune source: why 4 copies can beat 8 on Middlebury.

    python bench/orientation_errors.py [--scales 8,16] [--every 4] [--threads 1]

For every tune frame (RGB-D-D every n-th + the Middlebury tune scenes) and scale, the bicubic-protocol input goes
through the shipped routing once per grid symmetry (``model.ensemble.TRANSFORMS``: identity, h-flip, v-flip,
both, and the same after a transpose), one pass each. Prints, per source and scale, the geometric mean over frames
of each orientation's RMSE / the identity's, and of the means of the four flips, the four transposed copies and
all eight; writes ``bench/results/orientation_errors.json``.
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
from dsr_diff_ros import Upscaler  # noqa: E402
from dsr_diff_ros.data.degradations import bicubic_downsample  # noqa: E402
from dsr_diff_ros.data.real import MIDDLEBURY_TUNE  # noqa: E402
from dsr_diff_ros.data.shared import shared_path  # noqa: E402
from dsr_diff_ros.model.ensemble import TRANSFORMS  # noqa: E402
from dsr_diff_ros.training.trainer import tune_frames  # noqa: E402

NAMES = ("identity", "h-flip", "v-flip", "h+v", "T", "T h-flip", "T v-flip", "T h+v")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="8,16")
    ap.add_argument("--every", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", default=str(shared_path() or ""))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "orientation_errors.json"))
    a = ap.parse_args()
    root = tune_root(a.data, "orientation_errors")
    if root is None:
        return 2
    torch.set_num_threads(a.threads)
    up = Upscaler.from_pretrained(device="cpu", ensemble=1)
    frames = tune_frames(root, a.every, start=1)
    res = {}
    for s in (float(x) for x in a.scales.split(",")):
        for src in ("middlebury", "rgbdd"):
            rows = []
            for name, rgb, hr in frames:
                if (src == "middlebury") != (name in MIDDLEBURY_TUNE):
                    continue
                d = torch.from_numpy(bicubic_downsample(hr, s))[None, None]
                r = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
                outs = [inv(up.upscale(f(d).contiguous(), f(r).contiguous()))[0, 0].numpy() for f, inv in TRANSFORMS]
                rows.append([rmse_cm(o, hr) for o in outs] + [rmse_cm(np.mean(outs[:4], 0), hr),
                                                              rmse_cm(np.mean(outs[4:], 0), hr),
                                                              rmse_cm(np.mean(outs, 0), hr)])
            q = np.exp(np.log(np.array(rows) / np.array(rows)[:, :1]).mean(0))
            key = f"{src} x{s:g}"
            res[key] = {**{n: float(v) for n, v in zip(NAMES, q[:8])}, "mean of the 4 flips": float(q[8]),
                        "mean of the 4 transposed": float(q[9]), "mean of 8": float(q[10]), "frames": len(rows)}
            print(f"{key:16s} " + " ".join(f"{n} {v:.3f}" for n, v in res[key].items() if n != "frames"))
    Path(a.out).write_text(json.dumps({"every": a.every, "vs_identity": res}, indent=1))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

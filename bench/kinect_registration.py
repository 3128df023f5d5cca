#!/usr/bin/env python3
"""How much of the Kinect report's x4 gap is colour/depth misregistration? (a diagnostic on REPORT frames)

    python bench/kinect_registration.py [--shifts 0,0;0.5,1;-0.5,-1] [--scales 4] [--methods bicubic,guided,ours]
                                        [--threads 1] [--data ../shared/data]

The real Kinect v1 frames of ``rgbd/`` (the ``bench_targets.py`` Kinect report, sensor mode) are scored with their
colour image moved by each ``DX,DY`` (px; ``ColourModel.shift_px``: +x right, +y down; the depth, the reference and
the simulated sensor input stay as they are). ``bench/edge_offsets.py`` measured these frames' depth 0.8-1.3 px
below and 0.1-0.8 px right of their colour, so ``0.5,1`` moves the colour onto the depth and ``-0.5,-1`` doubles the
misregistration. The spread between them bounds what any registration fix (a calibrated offset, or a network that
learned Kinect v1's offset) could win on this report. It explains a number; nothing is chosen with it: the frames
are report frames. Prints RMSE (cm) and ours / bicubic per shift and writes
``bench/results/kinect_registration.json``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import kinect_report_sequences  # noqa: E402  (this folder)
from dsr_diff_ros.data.colour import ColourModel, degrade_colour  # noqa: E402
from dsr_diff_ros.data.shared import shared_path  # noqa: E402
from dsr_diff_ros.evaluation.protocols import evaluate, methods_for  # noqa: E402


class ShiftedColour:
    """An RGB-D source whose colour images are moved by ``shift`` px (the depth untouched); keeps ``errors``."""

    def __init__(self, source, shift: tuple[float, float]):
        self.source, self.shift = source, shift

    @property
    def errors(self):
        return self.source.errors

    def __len__(self) -> int:
        return len(self.source)

    def __iter__(self):
        model = ColourModel(shift_px=self.shift)
        for s in self.source:
            rgb = degrade_colour(s.rgb, model, np.random.default_rng(0)) if any(self.shift) else s.rgb
            yield dataclasses.replace(s, rgb=rgb)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shifts", default="0,0;0.5,1;-0.5,-1", help="DX,DY pairs separated by ';'")
    ap.add_argument("--scales", default="4")
    ap.add_argument("--methods", default="bicubic,guided,ours")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", default=str(shared_path() or ""))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "kinect_registration.json"))
    a = ap.parse_args()
    root = Path(a.data) / "rgbd" if a.data else None
    if root is None or not root.is_dir():
        print("kinect_registration: needs the shared data's rgbd/ folder (--data); skipped", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(a.threads)
    shifts = [tuple(float(v) for v in p.split(",")) for p in a.shifts.split(";")]
    scales = tuple(int(v) if float(v).is_integer() else float(v) for v in a.scales.split(","))
    names = a.methods.split(",")
    _, methods = methods_for(names, None, "cpu")
    real = kinect_report_sequences(root)
    rows = []
    for shift in shifts:
        res = evaluate([(n, ShiftedColour(src, shift)) for n, src in real], methods, scales=scales,
                       protocol="sensor", modes=("sensor",), progress=False, n_examples=0)
        for s in res.summary():
            rows.append(dict(shift=list(shift), scale=s["scale"], method=s["method"], rmse=s["rmse"],
                             edge_rmse=s["edge_rmse"], flat_rmse=s["flat_rmse"]))
    print("| colour shift (px) | scale | " + " | ".join(names) + " | ours / bicubic |")
    print("|---|---|" + "---|" * (len(names) + 1))
    for shift in shifts:
        for sc in scales:
            r = {x["method"]: x["rmse"] for x in rows if tuple(x["shift"]) == shift and x["scale"] == sc}
            ratio = r["ours"] / r["bicubic"] if "ours" in r and "bicubic" in r else float("nan")
            print(f"| {shift[0]:+g}, {shift[1]:+g} | x{sc:g} | " + " | ".join(f"{r.get(m, float('nan')):.2f}"
                                                                          for m in names) + f" | {ratio:.3f} |")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({"frames": [n for n, _ in real], "rows": rows}, indent=1))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where depth edges lie relative to colour edges, per data source: the evidence for ``fatten_foreground``.

    python bench/edge_offsets.py [--data ../shared/data]

At every depth discontinuity (4-neighbours both valid, relative jump > 8 %; every third one) the colour gradient
is sampled along the line through it, from 6 px on the near side to 6 px on the far side; the offset is where
that gradient peaks (px; skipped when it stays below 40). Negative: the colour edge lies on the near side, i.e. the
depth's foreground reaches beyond the object (fattening, as window-matching sensors do); 0: aligned. Prints
mean / median / shares per source, and mean / median by the side the nearer surface is on (real Kinect depth:
1-2 px beyond the colour where the nearer surface is left of or above the edge, ~0 where it is right or below; a
shift as well as fattening), and writes ``bench/results/edge_offsets.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dsr_diff_ros.data.folder import RGBDFolder  # noqa: E402
from dsr_diff_ros.data.real import read_middlebury, read_rgbdd  # noqa: E402
from dsr_diff_ros.data.shared import shared_path  # noqa: E402

REACH, JUMP, MIN_GRAD = 6, 0.08, 40.0


SIDES = ("near left", "near right", "near above", "near below")   # where the nearer surface lies


def edge_offsets(rgb: np.ndarray, depth: np.ndarray) -> dict[str, np.ndarray]:
    """(H, W, 3) uint8 + (H, W) depth (any unit growing with distance, 0 = invalid) -> offsets (px) at its edges,
    by the side the nearer surface is on."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grad = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3))
    h, w = depth.shape
    ts = np.arange(-REACH, REACH + 1, dtype=np.float32)
    out = {k: [] for k in SIDES}
    for axis in (0, 1):   # 0: vertical neighbours, 1: horizontal
        a, b = (depth[:, :-1], depth[:, 1:]) if axis else (depth[:-1], depth[1:])
        edge = (a > 0) & (b > 0) & (np.abs(a - b) > JUMP * np.minimum(a, b))
        for y, x in list(zip(*np.nonzero(edge)))[::3]:
            step = ts if a[y, x] < b[y, x] else -ts        # t > 0 towards the far side
            along = (x + 0.5 + step) if axis else (y + 0.5 + step)
            xs, ys = (along, np.full_like(ts, y)) if axis else (np.full_like(ts, x), along)
            if xs.min() < 0 or ys.min() < 0 or xs.max() > w - 1 or ys.max() > h - 1:
                continue
            prof = cv2.remap(grad, xs[None].astype(np.float32), ys[None].astype(np.float32), cv2.INTER_LINEAR)[0]
            if prof.max() >= MIN_GRAD:
                side = (SIDES[0] if a[y, x] < b[y, x] else SIDES[1]) if axis else \
                    (SIDES[2] if a[y, x] < b[y, x] else SIDES[3])
                out[side].append(int(ts[int(np.argmax(prof))]))
    return {k: np.array(v, dtype=np.int32) for k, v in out.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(shared_path() or ""))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "edge_offsets.json"))
    a = ap.parse_args()
    root = Path(a.data)
    sources = {}
    for seq in sorted(p for p in (root / "rgbd").glob("*") if p.is_dir()):
        sources[f"rgbd/{seq.name}"] = [(s.rgb, s.depth) for s in RGBDFolder(seq)]
    if (root / "middlebury_train").is_dir():   # disparity-like values: 1 / value grows with distance
        sources["middlebury_train"] = [(p.rgb, np.where(p.depth > 0, 1.0 / np.maximum(p.depth, 1e-6), 0))
                                       for p in read_middlebury(root / "middlebury_train", "all")[::3]]
    if (root / "rgbdd_train").is_dir():
        sources["rgbdd_train"] = [(p.rgb, p.depth) for p in read_rgbdd(root / "rgbdd_train", "all")[::15]]
    if not sources:
        print(f"edge_offsets: no rgbd/, middlebury_train/ or rgbdd_train/ under {root}", file=sys.stderr)
        return 2
    res = {}
    print(f"{'source':30s} {'frames':>6s} {'edges':>6s} {'mean':>6s} {'median':>6s} {'<0':>5s} {'>0':>5s} {'|t|<=1':>6s}"
          "  mean (median) by the nearer side: " + ", ".join(SIDES))
    for name, frames in sources.items():
        per = [edge_offsets(rgb, d.astype(np.float32)) for rgb, d in frames]
        by = {k: np.concatenate([p[k] for p in per]) for k in SIDES}
        t = np.concatenate(list(by.values()))
        res[name] = {"frames": len(frames), "edges": int(t.size), "mean_px": float(t.mean()),
                     "median_px": float(np.median(t)), "share_near": float((t < 0).mean()),
                     "share_far": float((t > 0).mean()), "share_within_1px": float((np.abs(t) <= 1).mean()),
                     "by_side": {k: {"edges": int(v.size), "mean_px": float(v.mean()) if v.size else None,
                                     "median_px": float(np.median(v)) if v.size else None} for k, v in by.items()}}
        r = res[name]
        print(f"{name:30s} {len(frames):6d} {t.size:6d} {r['mean_px']:+6.2f} {r['median_px']:+6.1f} "
              f"{r['share_near']:5.2f} {r['share_far']:5.2f} {r['share_within_1px']:6.2f}  "
              + "  ".join(f"{v['mean_px']:+.2f} ({v['median_px']:+.0f})" for v in r["by_side"].values()))
    Path(a.out).write_text(json.dumps({"reach_px": REACH, "jump": JUMP, "min_grad": MIN_GRAD, "sources": res},
                                      indent=1))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

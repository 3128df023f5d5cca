"""Frames that keep their holes: run every second self-ensemble copy hole-filled (the hedge)? Up to which valid
share? (TUNE split)

    python bench/calibrate_hole_hedge.py [--every 4] [--scales 4,8,16] [--threads 1] [--ensemble 8]

The inputs with holes of ``calibrate_hole_fill.py`` (bicubic with a sensor's holes, the Kinect-like native frame
through the bicubic, heavy-noise and sensor protocols, random sensors; tune frames only). Frames with fewer valid LR
pixels than the shipped ``hole_fill`` limit are filled anyway; for the others, at the default self-ensemble, the
script records the RMSE of the shipped routing as it is (every copy through the expert for the frame's holes) and
hedged (``Upscaler(hole_hedge_max_valid=1)``: copies 1, 3, 5, 7 run on the frame nearest-filled and routed as
hole-free; same number of passes), with the frame's valid share. For a grid of ``hedge_max_valid`` it prints, per
scale, the geometric mean and worst case of chosen / as-is per input kind and over all. The rule (as for
``hole_fill``): the value with the best product of the per-scale geometric means over all inputs at which no kind
at any scale gets worse by more than 0.5 %. Writes ``bench/results/hole_hedge_calibration.json``.
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
from dsr_diff_ros.evaluation.baselines import bicubic  # noqa: E402

GRID = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.0)
MAX_WORSE = 1.005


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--every", type=int, default=4)
    ap.add_argument("--scales", default="4,8,16")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ensemble", type=int, default=None, help="self-ensemble size (default: the weights')")
    ap.add_argument("--data", default=str(shared_path() or ""))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "hole_hedge_calibration.json"))
    a = ap.parse_args()
    root = tune_root(a.data, "calibrate_hole_hedge")
    if root is None:
        return 2
    torch.set_num_threads(a.threads)
    up = Upscaler.from_pretrained(device="cpu", ensemble=a.ensemble)
    fill = up.hole_fill_max_valid
    rows = []
    for name, rgb, s, kind, lr, gt in tune_inputs(root, a.every, a.scales):
        valid = float((lr > 0).mean())
        if valid < fill:   # filled and run hole-free anyway: the hedge does not reach them
            continue
        up.hole_hedge_max_valid = 0.0
        as_is = rmse_cm(up.upscale(lr, rgb), gt)
        up.hole_hedge_max_valid = 1.0
        rows.append(dict(frame=name, scale=s, kind=kind, valid=valid, as_is=as_is,
                         hedged=rmse_cm(up.upscale(lr, rgb), gt), bicubic=rmse_cm(bicubic(lr, rgb), gt)))
    kinds = sorted({r["kind"] for r in rows})
    scales = sorted({r["scale"] for r in rows})
    table, score = {}, {}
    print(f"{len(rows)} inputs with holes and >= {fill:g} valid, ensemble {up.default_ensemble}; geometric mean "
          f"(worst) of chosen / as-is when frames with fewer valid LR pixels than hedge_max_valid are hedged")
    for s in scales:
        print(f"x{s:g}  {'hedge_max_valid':>15s} " + " ".join(f"{k:>22s}" for k in kinds + ["all"]))
        for t in GRID:
            row = {}
            for k in kinds + ["all"]:
                rs = [r for r in rows if k in ("all", r["kind"]) and r["scale"] == s]
                q = np.array([(r["hedged"] if r["valid"] < t else r["as_is"]) / r["as_is"] for r in rs])
                row[k] = {"geomean": float(np.exp(np.log(q).mean())), "worst": float(q.max()), "n": len(rs),
                          "hedged": int(sum(r["valid"] < t for r in rs))}
            table[f"x{s:g} hedge_max_valid {t:g}"] = row
            ok, prod = score.get(t, (True, 1.0))
            score[t] = (ok and all(row[k]["geomean"] <= MAX_WORSE for k in kinds), prod * row["all"]["geomean"])
            print(f"     {t:15.2f} " + " ".join(f"{row[k]['geomean']:13.4f} ({row[k]['worst']:.3f})"
                                                for k in kinds + ["all"]))
    allowed = {t: p for t, (ok, p) in score.items() if ok}
    best = min(allowed, key=allowed.get) if allowed else 0.0
    print(f"chosen hedge_max_valid: {best:g} (product over scales {allowed.get(best, 1.0):.4f}; no kind worse than "
          f"{MAX_WORSE:g}x at any scale)")
    for k in kinds:
        rs = [r for r in rows if r["kind"] == k]
        print(f"{k:22s} valid p10/p50/p90 {np.percentile([r['valid'] for r in rs], [10, 50, 90]).round(2)}  "
              f"as-is / bicubic {np.exp(np.mean([np.log(r['as_is'] / r['bicubic']) for r in rs])):.3f}  "
              f"hedged / bicubic {np.exp(np.mean([np.log(r['hedged'] / r['bicubic']) for r in rs])):.3f}")
    Path(a.out).write_text(json.dumps({"every": a.every, "ensemble": up.default_ensemble, "hole_fill": fill,
                                       "model_id": up.model_id, "chosen": best, "grid": table, "rows": rows},
                                      indent=1))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

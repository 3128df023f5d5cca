"""Choose the routing threshold between the sensor expert and the clean expert on the TUNE split.

    python bench/calibrate_experts.py [--sensor dsr_diff_default] [--clean NAME] [--every 2]
                                      [--band NAME:MAX_RATIO ...]     (defaults: the experts the sensor JSON names)
                                      [--holes NAME]                  (a third expert for inputs with holes)

For every tune frame (RGB-D-D every n-th + the Middlebury tune scenes) and 16 inputs (bicubic x2/3/4/8/16,
heavy noise x4/x8/x16, four random sensors, four random sensors with their holes filled (x2.67/4/8/16)) it
records the measured noise (``degradation.image_noise``), the valid share of the LR pixels and both experts'
RMSE (the clean expert of an input is the first ``--band`` whose max ratio holds its scale, else ``--clean``,
as ``inference.Upscaler`` routes), prints per-input ratios (clean / sensor expert) and, for a grid of
(min_valid, max_sigma) over all inputs and of max_sigma per scale band, the geometric mean and the worst case
of routed / sensor-expert RMSE.
With ``--holes`` (default: the one the sensor JSON names under "holes_expert", if any) it also records the holes
expert's RMSE and, with the clean rule of the sensor JSON kept, the grid of ``max_valid`` x ``max_ratio`` (inputs
that are not clean, have fewer valid LR pixels than max_valid and a ratio of at most max_ratio go to the holes
expert).
Writes ``bench/results/expert_calibration.json``. The thresholds go into the sensor expert's JSON with
``training.export.set_clean_expert``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import tune_root  # noqa: E402
from dsr_diff_ros.data.degradations import degrade  # noqa: E402
from dsr_diff_ros.data.shared import shared_path  # noqa: E402
from dsr_diff_ros.evaluation.baselines import fill_nearest  # noqa: E402
from dsr_diff_ros.inference import resolve_weights  # noqa: E402
from dsr_diff_ros.model.checkpoint import load_weights  # noqa: E402
from dsr_diff_ros.model.degradation import image_noise  # noqa: E402
from dsr_diff_ros.training.dataset import random_sensor  # noqa: E402
from dsr_diff_ros.training.trainer import tune_frames  # noqa: E402


def rmse(a: torch.Tensor, gt: torch.Tensor) -> float:
    v = gt > 0
    return float(((a - gt)[v] ** 2).mean().sqrt())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sensor", default="dsr_diff_default")
    ap.add_argument("--clean", default=None, help="the clean expert above every band (default: the one the "
                    "sensor expert's JSON names)")
    ap.add_argument("--data", default=str(shared_path() or ""))
    ap.add_argument("--band", action="append", default=None, metavar="WEIGHTS:MAX_RATIO",
                    help="a clean expert for inputs upscaled by at most MAX_RATIO (repeatable; default: the bands "
                         "the sensor expert's JSON names; 'none': no band)")
    ap.add_argument("--holes", default=None, help="the holes expert (default: the one the sensor JSON names; "
                    "'none': no holes expert)")
    ap.add_argument("--every", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "expert_calibration.json"))
    a = ap.parse_args()
    root = tune_root(a.data, "calibrate_experts")
    if root is None:
        return 2
    torch.set_num_threads(a.threads)
    sensor, cfg = load_weights(resolve_weights(a.sensor))
    shipped = cfg.get("clean_expert") or {}
    a.clean = a.clean or shipped.get("weights")
    if not a.clean:
        print(f"calibrate_experts: {a.sensor} names no clean expert; pass --clean", file=sys.stderr)
        return 2
    clean, _ = load_weights(resolve_weights(a.clean))
    a.holes = a.holes or (cfg.get("holes_expert") or {}).get("weights")
    holes = load_weights(resolve_weights(a.holes))[0] if a.holes and a.holes != "none" else None
    if a.band is None:
        a.band = [f"{b['weights']}:{b['max_ratio']}" for b in shipped.get("bands", [])]
    a.band = [b for b in a.band if b != "none"]
    bands = sorted(((float(b.rsplit(":", 1)[1]), load_weights(resolve_weights(b.rsplit(":", 1)[0]))[0])
                    for b in a.band), key=lambda t: t[0])
    frames = tune_frames(root, a.every, start=1)
    rng, rng_filled = np.random.default_rng(0), np.random.default_rng(1)   # the filled cases leave the rest as before
    rows = []
    for k, (name, rgb, hr) in enumerate(frames):
        cases = [("bicubic", s, None) for s in (2, 3, 4, 8, 16)] + [("noisy", s, None) for s in (4, 8, 16)]
        cases += [("sensor", float(s), random_sensor(rng)) for s in (640 / 240, 4, 4, 640 / 120)]
        cases += [("filled", float(s), random_sensor(rng_filled)) for s in (512 / 192, 4, 8, 16)]  # holes filled: some
        # datasets ship real sensor depth (e.g. RGB-D-D's hole-filled phone ToF): no holes to tell them apart
        r = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
        h = torch.from_numpy(hr)[None, None]
        for mode, s, sm in cases:
            lr = degrade(hr, s, "sensor" if mode == "filled" else mode, sm, rng=k)
            d = torch.from_numpy(fill_nearest(lr) if mode == "filled" else lr)[None, None]
            with torch.no_grad():
                p = sensor.prepare(d, r)
                res = {nm: rmse(m.run(d, r, steps=1, prepared=p).depth, h) for nm, m in
                       (("sensor_expert", sensor), ("clean_expert", next((m for mr, m in bands if s <= mr), clean)))
                       + ((("holes_expert", holes),) if holes is not None else ())}
                bic = F.interpolate(p.lr[:, :1], size=hr.shape, mode="bicubic", align_corners=False) * p.scale
                res["bicubic"] = rmse(bic, h)
            rows.append(dict(frame=name, mode=mode, scale=s, noise=float(image_noise(p.lr)[0]),
                             valid=float(p.lr[0, 1].mean()), **res))
    ratio = lambda r: r["clean_expert"] / r["sensor_expert"]  # noqa: E731
    def by_input():
        """(mode, scale, rows) per input kind, in a fixed order."""
        for mode in ("bicubic", "noisy", "sensor", "filled"):
            for s in sorted({r["scale"] for r in rows if r["mode"] == mode}):
                yield mode, s, [r for r in rows if r["mode"] == mode and r["scale"] == s]

    print(f"{len(rows)} inputs; clean / sensor expert RMSE (geometric mean, worst)")
    for mode, s, rs in by_input():
        print(f"  {mode:8s} x{s:<5.2f} n={len(rs):2d} noise {min(r['noise'] for r in rs):.4f}-"
              f"{max(r['noise'] for r in rs):.4f} valid {min(r['valid'] for r in rs):.3f}-"
              f"{max(r['valid'] for r in rs):.3f}  {np.exp(np.mean([np.log(ratio(r)) for r in rs])):.3f} "
              f"{max(ratio(r) for r in rs):.3f}")
    def routed(rs: list[dict], max_sigma: float, min_valid: float) -> dict:
        """routed / sensor-expert RMSE (geometric mean, worst) when ``rs`` are routed by this rule."""
        lr = [np.log(ratio(r)) if (r["noise"] <= max_sigma and r["valid"] >= min_valid) else 0.0 for r in rs]
        return dict(min_valid=min_valid, max_sigma=max_sigma, routed_vs_sensor=float(np.exp(np.mean(lr))),
                    worst=float(np.exp(max(lr))), to_clean=int(sum(x != 0.0 for x in lr)), n=len(rs))

    grid = [routed(rows, th, mv) for mv in (0.9, 0.99, 0.999) for th in (0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 1.0)]
    # per scale band (each band's expert may have its own noise limit), min_valid 0.999
    edges = [0.0] + [mr for mr, _ in bands] + [np.inf]
    band_grid = [dict(band=f"x{lo:g}-{hi:g}", **routed([r for r in rows if lo < r["scale"] <= hi], th, 0.999))
                 for lo, hi in zip(edges[:-1], edges[1:])
                 for th in (0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.03, 1.0)]
    for g in grid + band_grid:
        print("  {where}min_valid {min_valid} max_sigma {max_sigma}: routed / sensor expert {routed_vs_sensor:.4f}, "
              "worst {worst:.3f}, {to_clean} of {n} inputs to the clean expert"
              .format(where=f"band {g['band']} " if "band" in g else "", **g))
    holes_grid = []
    if holes is not None:
        hr_ = lambda r: r["holes_expert"] / r["sensor_expert"]  # noqa: E731
        print("holes / sensor expert RMSE (geometric mean, worst)")
        for mode, s, rs in by_input():
            print(f"  {mode:8s} x{s:<5.2f} n={len(rs):2d}  {np.exp(np.mean([np.log(hr_(r)) for r in rs])):.3f} "
                  f"{max(hr_(r) for r in rs):.3f}")
        # the shipped clean rule (per band max_sigma, min_valid), then the holes rule
        spec_bands = sorted((float(b["max_ratio"]), float(b.get("max_sigma", shipped.get("max_sigma", 0))))
                            for b in shipped.get("bands", []))

        def clean_sigma(scale: float) -> float:
            return next((sg for mr, sg in spec_bands if scale <= mr), float(shipped.get("max_sigma", 0)))
        mv_clean = float(shipped.get("min_valid", 0.999))
        for max_valid in (0.9, 0.97, 0.99, 0.999, 1.01):
            for max_ratio in (3.2, 4.62, np.inf):      # between the sensor ratios 2.67 | 4 | 5.33
                lr = []
                for r in rows:
                    if r["noise"] <= clean_sigma(r["scale"]) and r["valid"] >= mv_clean:
                        lr.append(("clean", np.log(ratio(r))))
                    elif r["valid"] < max_valid and r["scale"] <= max_ratio:
                        lr.append(("holes", np.log(hr_(r))))
                    else:
                        lr.append(("sensor", 0.0))
                g = dict(max_valid=max_valid, max_ratio=float(max_ratio) if np.isfinite(max_ratio) else None,
                         routed_vs_sensor=float(np.exp(np.mean([x for _, x in lr]))),
                         worst=float(np.exp(max(x for _, x in lr))), to_holes=sum(k == "holes" for k, _ in lr),
                         holes_part=float(np.exp(np.mean([x for k, x in lr if k == "holes"] or [0.0]))), n=len(lr))
                holes_grid.append(g)
                print("  holes max_valid {max_valid} max_ratio {max_ratio}: routed (3 experts) / sensor expert "
                      "{routed_vs_sensor:.4f}, worst {worst:.3f}; {to_holes} of {n} inputs to the holes expert, "
                      "there {holes_part:.4f}".format(**g))
    Path(a.out).write_text(json.dumps({"sensor": a.sensor, "clean": a.clean, "bands": a.band, "holes": a.holes,
                                       "rows": rows, "grid": grid, "band_grid": band_grid,
                                       "holes_grid": holes_grid}, indent=1))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

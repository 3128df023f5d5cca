"""dsr-diff-demo: the one-command demo. Builds a bag from the bundled real Kinect sample (5 frames, MIT,
gaoxiang12/slambook2) with a simulated low-cost depth sensor (x4: 160x120), replays it through DSR-Diff and the
bicubic / guided-filter baselines, prints the metrics table and writes the report (default ./reports/demo).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..pipeline import ENSEMBLE_SIZES

SAMPLE = Path(__file__).resolve().parents[1] / "replay" / "sample"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dsr-diff-demo", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", default="reports/demo", help="report folder (the bags go inside it)")
    p.add_argument("--frames", default=SAMPLE, type=Path, help="folder of RGB-D frames to use instead of the sample")
    p.add_argument("--lr-size", default="160x120", help="simulated low-cost depth size")
    p.add_argument("--model", default="dsr_diff", help="dsr_diff or a baseline name (plumbing check)")
    p.add_argument("--weights", default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--ensemble", type=int, choices=ENSEMBLE_SIZES, default=1,
                   help="self-ensemble size (default 1, as the live node; 8: more accurate, 8x the compute)")
    p.add_argument("--storage", choices=("sqlite3", "mcap"), default="mcap")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv=None) -> int:
    from ..pipeline import Pipeline
    from ..replay.driver import Replay, ReplayOptions
    from ..replay.make_bag import MakeBagConfig, make_bag
    from ..replay.models import load_model
    from ..replay.report import metrics_table, write_report
    from ..replay.sensor import SimSensorConfig, parse_size

    a = build_parser().parse_args(argv)
    t0 = time.perf_counter()
    out = Path(a.out)
    in_bag, out_bag = out / "input_bag", out / "output_bag"
    sim = SimSensorConfig(size=parse_size(a.lr_size), mode="sensor", seed=0)
    try:
        s = make_bag(a.frames, in_bag, MakeBagConfig(storage=a.storage, sim=sim, overwrite=True))
        print(f"[1/3] input bag {in_bag}: {s['frames']} Kinect frames 640x480 + simulated low-cost depth "
              f"{a.lr_size} on /camera/camera/depth/image_rect_raw, original depth as ground truth")
        up = load_model(a.model, a.weights, a.device)
        if hasattr(up, "warmup"):
            up.warmup(rgb_hw=(480, 640), depth_hw=sim.size[::-1] if sim.size else (120, 160))
        pipe = Pipeline(up, steps=a.steps, fill_holes=True, compute_points=True, ensemble=a.ensemble)
        opts = ReplayOptions(storage=a.storage, overwrite=True, points=True, progress=not a.no_progress)
        print(f"[2/3] replaying through {getattr(up, 'model_id', a.model)} (steps {pipe.steps}, "
              f"device {getattr(up, 'device', 'cpu')}) and the baselines {', '.join(opts.baselines)}")
        res = Replay(pipe, opts).run(in_bag, out_bag)
    except KeyboardInterrupt:
        print("dsr-diff-demo: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a demo must say what went wrong in one line
        print(f"dsr-diff-demo: error: {e}", file=sys.stderr)
        return 1
    paths = write_report(res, out)
    print(f"[3/3] output bag {out_bag}: {res.frames} frames; topics {', '.join(res.output_topics.values())}\n")
    print(metrics_table(res.summary, res.has_gt))
    print(f"\nreport: {paths['markdown']} (+ replay.json and PNG figures); total {time.perf_counter() - t0:.0f} s")
    return 130 if res.interrupted else 0


if __name__ == "__main__":
    sys.exit(main())

"""dsr-diff-adapt: fine-tune DSR-Diff to your own sensor from your own recording (no high-resolution ground truth).

    dsr-diff-adapt RECORDING --out my_sensor [--budget 420] [--base WEIGHTS] [topic options of dsr-diff-replay]

RECORDING: rosbag2 folder (sqlite3 or mcap), ROS 1 .bag, or an RGB-D folder. Writes my_sensor.safetensors +
my_sensor.json (weights + sensor profile + provenance), usable as `weights:=my_sensor` (node),
`dsr-diff-replay --weights my_sensor` and `Upscaler.from_pretrained("my_sensor")`.
Exit status: 0 done (adapted or base kept), 1 bad input, 130 interrupted (best weights so far written).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..replay.sensor import add_sensor_args, sensor_config_from_args
from .argtypes import positive_int


def build_parser() -> argparse.ArgumentParser:
    from ..adapt.config import AdaptConfig

    d = AdaptConfig()
    p = argparse.ArgumentParser(prog="dsr-diff-adapt", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("recording", help="rosbag2 folder (sqlite3/mcap), ROS 1 .bag, or RGB-D folder")
    p.add_argument("--out", required=True, help="output weights: writes OUT.safetensors + OUT.json")
    p.add_argument("--base", default=None, help="weights to start from (default: the shipped weights)")
    p.add_argument("--budget", type=float, default=d.budget_s, help="optimisation time in seconds")
    p.add_argument("--max-iters", type=int, default=None, help="also stop after this many iterations")
    p.add_argument("--max-frames", type=int, default=d.max_frames, help="frames used, spread over the recording")
    p.add_argument("--holdout", type=float, default=d.holdout, help="share of frames held out for the keep/reject test")
    p.add_argument("--min-gain", type=float, default=d.min_gain, help="held-out loss drop needed to keep the weights")
    p.add_argument("--min-holdout-frames", type=int, default=d.min_holdout_frames,
                   help="fewer held-out frames: not verifiable, the base weights are kept")
    p.add_argument("--scope", choices=("light", "dsrn", "all"), default=d.scope, help="parameters adapted")
    p.add_argument("--lr", type=float, default=d.lr, help="learning rate")
    p.add_argument("--adapt-seed", type=int, default=d.seed, help="seed of the sampling of training crops")
    p.add_argument("--threads", type=int, default=d.threads, help="torch CPU threads (0: torch's default)")
    p.add_argument("--device", default=d.device, help="cpu, cuda, auto")
    p.add_argument("--offset", type=float, nargs=2, default=None, metavar=("DX", "DY"),
                   help="colour/depth offset in colour pixels when known from a calibration (default: estimated)")
    p.add_argument("--fresh", action="store_true", help="ignore a saved state of an earlier run (no resume)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--recover", action="store_true", help="read a damaged bag record by record (as dsr-diff-replay)")
    t = p.add_argument_group("input topics (auto-detected when not given; as dsr-diff-replay)")
    t.add_argument("--rgb", default=None, metavar="TOPIC", help="colour image (Image or CompressedImage)")
    t.add_argument("--depth", default=None, metavar="TOPIC", help="depth image")
    t.add_argument("--slop", type=float, default=0.03, help="pairing tolerance in seconds")
    t.add_argument("--queue-size", type=positive_int, default=30, help="synchronizer queue size")
    p.add_argument("--simulate", action="store_true",
                   help="treat the depth as good depth and synthesise the low-cost LR stream from it (testing)")
    add_sensor_args(p)
    return p


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    from ..adapt import AdaptConfig, adapt
    from ..adapt.recording import RecordingError
    from ..model.checkpoint import WeightsError
    from ..replay.bagio import BagError
    from ..replay.driver import ReplayOptions
    from ..replay.topics import TopicError

    opts = ReplayOptions(rgb=a.rgb, depth=a.depth, slop=a.slop, queue_size=a.queue_size, recover=a.recover,
                         simulate=sensor_config_from_args(a) if a.simulate else None)
    cfg = AdaptConfig(base=a.base, budget_s=a.budget, max_iters=a.max_iters, max_frames=a.max_frames,
                      holdout=a.holdout, min_gain=a.min_gain, min_holdout_frames=a.min_holdout_frames,
                      scope=a.scope, lr=a.lr, seed=a.adapt_seed,
                      threads=a.threads, device=a.device,
                      offset_px=tuple(a.offset) if a.offset else None)
    try:
        res = adapt(a.recording, Path(a.out), cfg, opts, progress=not a.no_progress, resume=not a.fresh)
    except (RecordingError, BagError, TopicError, WeightsError, FileNotFoundError, ValueError, RuntimeError) as e:
        print(f"dsr-diff-adapt: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # while reading the recording or loading the weights: nothing to keep yet
        print("dsr-diff-adapt: interrupted before the adaptation started; nothing written", file=sys.stderr)
        return 130
    return 130 if res.interrupted else 0


if __name__ == "__main__":
    sys.exit(main())

"""dsr-diff-make-bag: write a rosbag2 from a folder of RGB-D frames (NNN_color.png/NNN_depth.png + camera.yaml, or
TUM rgb.txt/depth.txt with the 5000 depth scale), realsense-ros topic names, optional simulated low-cost sensor.

    dsr-diff-make-bag FOLDER OUT_BAG [--storage mcap] [--simulate --lr-size 160x120]
"""
from __future__ import annotations

import argparse
import sys

from ..replay.make_bag import MakeBagConfig
from ..replay.sensor import add_sensor_args, sensor_config_from_args
from .argtypes import positive_int


def build_parser() -> argparse.ArgumentParser:
    d = MakeBagConfig()
    p = argparse.ArgumentParser(prog="dsr-diff-make-bag", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("folder", help="folder of RGB-D frames")
    p.add_argument("out", help="output rosbag2 directory")
    p.add_argument("--storage", choices=("sqlite3", "mcap"), default="mcap")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output bag")
    p.add_argument("--rgb-topic", default=d.rgb_topic, help="colour topic (camera_info goes next to it)")
    p.add_argument("--depth-topic", default=d.depth_topic, help="depth topic (without --simulate)")
    p.add_argument("--lr-depth-topic", default=d.lr_depth_topic, help="simulated LR depth topic (--simulate)")
    p.add_argument("--gt-topic", default=d.gt_topic, help="ground-truth depth topic (--simulate)")
    p.add_argument("--depth-encoding", choices=("16UC1", "32FC1"), default=d.depth_encoding)
    p.add_argument("--compressed-rgb", action="store_true", help="write the colour as CompressedImage (jpeg)")
    p.add_argument("--frame-id", default=d.frame_id)
    p.add_argument("--max-frames", type=positive_int, default=None, help="stop after this many frames (default: all)")
    p.add_argument("--repeat", type=positive_int, default=1, help="loop the sequence N times (longer bags for benchmarks)")
    p.add_argument("--simulate", action="store_true",
                   help="write a simulated low-cost LR depth stream and keep the original depth as ground truth")
    add_sensor_args(p)
    return p


def config_from_args(a) -> MakeBagConfig:
    return MakeBagConfig(storage=a.storage, rgb_topic=a.rgb_topic, depth_topic=a.depth_topic,
                         lr_depth_topic=a.lr_depth_topic, gt_topic=a.gt_topic, depth_encoding=a.depth_encoding,
                         compressed_rgb=a.compressed_rgb, frame_id=a.frame_id,
                         sim=sensor_config_from_args(a) if a.simulate else None, max_frames=a.max_frames,
                         repeat=a.repeat, overwrite=a.overwrite)


def main(argv=None) -> int:
    from ..data.folder import DatasetError
    from ..replay.bagio import BagError
    from ..replay.make_bag import make_bag

    a = build_parser().parse_args(argv)
    try:
        s = make_bag(a.folder, a.out, config_from_args(a))
    except (DatasetError, BagError, ValueError) as e:
        print(f"dsr-diff-make-bag: error: {e}", file=sys.stderr)
        return 1
    for name, reason in s["skipped"]:
        print(f"dsr-diff-make-bag: skipped {name}: {reason}", file=sys.stderr)
    if s["frames"] == 0:
        print("dsr-diff-make-bag: error: no frame could be read", file=sys.stderr)
        return 1
    print(f"wrote {s['path']} ({s['storage']}, {s['frames']} frames, {s['layout']} layout)")
    for t, n in s["topics"].items():
        print(f"  {t}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

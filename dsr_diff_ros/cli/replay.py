"""dsr-diff-replay: run a recorded bag through the node's pairing + pipeline, write an output rosbag2 and a report.

    dsr-diff-replay BAG [-o OUT_BAG] [--report DIR] [--gt TOPIC | --simulate --lr-size 160x120] ...

Exit status: 0 done, 1 bad input (message says why), 130 interrupted (output bag closed with the frames so far).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..pipeline import ENSEMBLE_SIZES
from ..replay.sensor import add_sensor_args, sensor_config_from_args
from .argtypes import positive_int, ros_namespace


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dsr-diff-replay", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("bag", help="input bag: rosbag2 directory (sqlite3 or mcap) or ROS 1 .bag file")
    p.add_argument("-o", "--out", default=None, help="output rosbag2 (default: <bag>_upscaled next to the input)")
    p.add_argument("--report", default=None, help="report folder (default: reports/<bag name>); 'none' to skip")
    p.add_argument("--storage", choices=("sqlite3", "mcap"), default="mcap", help="output bag storage")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output bag")
    p.add_argument("--recover", action="store_true",
                   help="damaged recording (power lost: MCAP without footer or cut, sqlite3 cut mid-write, no "
                        "metadata.yaml): process every complete message, report what was lost and where")
    p.add_argument("--list-topics", action="store_true", help="print the bag's topics and the detected roles, then exit")
    t = p.add_argument_group("input topics (auto-detected when not given)")
    for name, what in (("rgb", "colour image (Image or CompressedImage)"), ("depth", "depth image"),
                       ("rgb-info", "colour CameraInfo"), ("depth-info", "depth CameraInfo"),
                       ("gt", "ground-truth depth image (enables the RMSE/MAE/... metrics)"),
                       ("gt-info", "ground-truth CameraInfo")):
        t.add_argument(f"--{name}", default=None, metavar="TOPIC", help=what)
    t.add_argument("--no-auto-gt", action="store_true", help="do not pick a ground-truth topic by its name")
    t.add_argument("--camera-yaml", default=None, help="colour intrinsics (camera.yaml) when the bag has no camera_info")
    t.add_argument("--slop", type=float, default=0.03, help="pairing tolerance in seconds (ApproximateTimeSynchronizer)")
    t.add_argument("--queue-size", type=positive_int, default=30, help="synchronizer queue size")
    p.add_argument("--simulate", action="store_true",
                   help="treat the depth topic as good depth: synthesise the low-cost LR stream from it and use "
                        "the original as ground truth")
    add_sensor_args(p)
    m = p.add_argument_group("model and pipeline")
    m.add_argument("--model", default="dsr_diff", help="dsr_diff, or a baseline name (bicubic, guided, ...)")
    m.add_argument("--weights", default=None, help="weights file/folder (default: the shipped weights)")
    m.add_argument("--experts", choices=("auto", "sensor"), default="auto",
                   help="auto: each frame to the sensor or a clean-input expert by its noise and holes; "
                        "sensor: the sensor expert only")
    m.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:0 ...")
    m.add_argument("--steps", type=int, default=None, help="diffusion steps (default: the model's)")
    m.add_argument("--ensemble", type=int, choices=ENSEMBLE_SIZES, default=1,
                   help="self-ensemble: average over 1, 2, 4 or 8 flipped/transposed copies of each frame (default 1, "
                        "as the live node; 8: 1-10 %% lower RMSE at 8x the compute)")
    m.add_argument("--fill-holes", action="store_true", help="fill output pixels without input support")
    m.add_argument("--register", action="store_true", help="register depth to colour with both camera infos")
    m.add_argument("--points", action="store_true", help="also write the organized PointCloud2")
    m.add_argument("--decimation", type=positive_int, default=1, help="point cloud decimation: every n-th row/column")
    o = p.add_argument_group("outputs and metrics")
    o.add_argument("--depth-encoding", choices=("32FC1", "16UC1"), default="32FC1", help="output depth encoding")
    o.add_argument("--namespace", type=ros_namespace, default="/dsr_diff",
                   help="ROS namespace of the output topics (a relative one is made absolute)")
    o.add_argument("--inputs", choices=("all", "used", "none"), default="all",
                   help="input topics copied to the output bag: all, only the used ones, or none")
    o.add_argument("--baselines", default="bicubic,guided", help="comma list of baselines scored alongside, or 'none'")
    o.add_argument("--no-metrics", action="store_true", help="skip the metrics (fastest)")
    o.add_argument("--no-figures", action="store_true", help="report without PNG figures")
    o.add_argument("--figure-frame", type=int, default=None, help="frame index shown in the figures (default: middle)")
    o.add_argument("--max-frames", type=positive_int, default=None, help="stop after this many frames (default: all)")
    o.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def options_from_args(a):
    from ..replay.driver import ReplayOptions

    bl = () if a.baselines.strip().lower() in ("", "none") else tuple(b.strip() for b in a.baselines.split(",") if b.strip())
    return ReplayOptions(
        rgb=a.rgb, depth=a.depth, rgb_info=a.rgb_info, depth_info=a.depth_info, gt=a.gt, gt_info=a.gt_info,
        auto_gt=not a.no_auto_gt, camera_yaml=a.camera_yaml,
        simulate=sensor_config_from_args(a) if a.simulate else None, slop=a.slop, queue_size=a.queue_size,
        depth_encoding=a.depth_encoding, namespace=a.namespace, points=a.points, copy_inputs=a.inputs,
        storage=a.storage, overwrite=a.overwrite, baselines=bl, metrics=not a.no_metrics, max_frames=a.max_frames,
        progress=not a.no_progress, figure_frame=a.figure_frame, recover=a.recover)


def default_out(bag: str) -> Path:
    p = Path(bag).resolve()
    p = p.parent if p.suffix in (".db3", ".mcap") else p
    return p.with_name(p.stem + "_upscaled")


def list_topics(bag: str, a) -> int:
    from ..replay.recover import open_reader
    from ..replay.topics import TopicError, detect_topics

    with open_reader(bag, a.recover) as r:
        print(f"{bag}: {r.message_count} messages ({'rosbag2' if r.is_ros2 else 'ROS 1'})")
        print(r.describe())
        try:
            sel = detect_topics({t: i.msgtype for t, i in r.topics.items()}, a.rgb, a.depth, a.rgb_info,
                                a.depth_info, a.gt, a.gt_info, auto_gt=not a.no_auto_gt)
            print("detected roles:")
            for k, v in sel.to_dict().items():
                print(f"  {k:10s} {v or '-'}")
        except TopicError as e:
            print(f"detection: {e}".split("\n")[0])
    return 0


def run(a) -> int:
    """Run a replay from parsed options (shared with dsr-diff-demo). Returns the exit status."""
    from ..pipeline import Pipeline
    from ..replay.bagio import BagError
    from ..replay.driver import Replay, ReplayError, check_bag
    from ..replay.models import load_model
    from ..replay.report import metrics_table, write_report
    from ..replay.topics import TopicError

    try:
        if a.list_topics:
            return list_topics(a.bag, a)
        opts = options_from_args(a)
        out = Path(a.out) if a.out else default_out(a.bag)
        sel = check_bag(a.bag, opts, native_depth=a.register)  # fail fast, before loading the model
        if not a.register and not a.depth and "aligned_depth_to_color" in sel.depth:
            print(f"dsr-diff-replay: note: {sel.depth} is aligned to the colour image, at its resolution: little to "
                  "super-resolve; --register replays the sensor's native depth instead (registered by the pipeline)",
                  file=sys.stderr)
        upscaler = load_model(a.model, a.weights, a.device, a.experts)
        pipe = Pipeline(upscaler, steps=a.steps, register=a.register, fill_holes=a.fill_holes,
                        compute_points=a.points, decimation=a.decimation, ensemble=a.ensemble)
        res = Replay(pipe, opts).run(a.bag, out)
    except (BagError, TopicError, ReplayError, RuntimeError, ValueError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"dsr-diff-replay: error: {msg}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # before the loop started (model loading)
        print("dsr-diff-replay: interrupted", file=sys.stderr)
        return 130
    if res.recovery:
        print(f"dsr-diff-replay: warning: damaged bag: {res.recovery['summary']}", file=sys.stderr)
    print(f"output bag: {res.out} ({res.frames} frames upscaled, {res.dropped} skipped; "
          f"topics {', '.join(res.output_topics.values())})")
    if res.summary:
        print(metrics_table(res.summary, res.has_gt))
    t = res.timing
    if t.get("frames"):
        print(f"timing: {t['infer_ms_per_frame']:.0f} ms/frame inference, {t['overhead_ms_per_frame']:.1f} ms/frame "
              f"replay overhead (read+decode+sync+encode+write), {t['eval_ms_per_frame']:.0f} ms/frame metrics")
    if a.report is None or a.report.lower() != "none":
        rep = Path(a.report) if a.report else Path("reports") / Path(res.out).name
        paths = write_report(res, rep, figures=not a.no_figures)
        print(f"report: {paths['markdown']}")
    if res.interrupted:
        print(f"dsr-diff-replay: interrupted; the output bag holds the {res.frames} frames processed so far",
              file=sys.stderr)
        return 130
    if res.error:
        print(f"dsr-diff-replay: stopped early: {res.error}; the output bag holds the {res.frames} frames "
              "processed so far", file=sys.stderr)
        return 1
    if res.frames == 0:
        print("dsr-diff-replay: no frame was processed" + (f" (first reason: {res.drop_reasons[0]})" if
              res.drop_reasons else f" ({res.pairs} RGB/depth pairs found; try a larger --slop)"), file=sys.stderr)
        return 1
    return 0


def main(argv=None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

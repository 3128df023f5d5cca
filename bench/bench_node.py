"""Benchmark of the node's non-model work and an end-to-end 30 Hz run.

Part 1 (budget: <= 15 ms per 640x480 frame on this CPU): every stage except the network, with the model
replaced by a pass-through that returns a precomputed 640x480 depth (zero cost) ONLY here. Median over
repeats of: message -> NumPy conversion, validation/sanitising, point back-projection, output message
encoding (depth image, camera info, XYZRGB cloud), serialisation, and publish (rclpy, with a subscriber).

Part 2 (--e2e, needs trained weights): the node with the real Upscaler on CPU fed a 30 Hz RGB-D stream for
``--seconds``; latency percentiles (receipt -> publish) over time and output rate, showing latency stays flat
and the surplus pairs are replaced (dropped), not queued.

    python bench/bench_node.py [--repeats 30] [--e2e --seconds 20]
Writes bench/results/node.json and prints a table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import threading
import time
from pathlib import Path

from host import cpu_name  # this folder
from dsr_diff_ros.ros.threads import reserve_core_for_executor

reserve_core_for_executor()  # as dsr-diff-node does, before torch is imported

import numpy as np  # noqa: E402

os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("ROS_DOMAIN_ID", str(100 + os.getpid() % 100))

import rclpy  # noqa: E402
from rclpy.serialization import serialize_message  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image, PointCloud2, PointField  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from dsr_diff_ros.data.degradations import degrade  # noqa: E402
from dsr_diff_ros.data.folder import RGBDFolder  # noqa: E402
from dsr_diff_ros.data.shared import SAMPLE  # noqa: E402
from dsr_diff_ros.frame import Frame  # noqa: E402
from dsr_diff_ros.pipeline import Pipeline  # noqa: E402
from dsr_diff_ros import convert as cv  # noqa: E402
from dsr_diff_ros.ros.memory import tune_malloc  # noqa: E402

DATA = SAMPLE  # the bundled real Kinect frames
OUT = Path(__file__).resolve().parent / "results" / "node.json"


class PassThrough:
    """Benchmark-only stand-in for the network: returns a precomputed HR depth (no work)."""

    num_steps, default_steps, model_id, device = 1, 1, "pass-through", "cpu"

    def __init__(self, hr):
        self.hr = hr

    def upscale(self, depth, rgb, steps=None, fill_holes=False, ensemble=None):
        return self.hr


def spin_quietly(ex):
    try:
        ex.spin()
    except Exception:  # executor shut down under us at the end of a measurement
        pass


def machine() -> str:
    return f"{cpu_name()}, {os.cpu_count()} cores visible, Python {platform.python_version()}"


def timed(fn, repeats):
    ts, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        ts.append((time.perf_counter() - t) * 1e3)
    return statistics.median(ts), out


def sample(i=0):
    s = RGBDFolder(DATA).load(i)
    lr = degrade(s.depth, 4, rng=np.random.default_rng(i))
    return s.rgb, s.depth, lr, s.intrinsics


def bench_stages(repeats: int) -> dict:
    rgb, hr, lr, K = sample()
    hdr = Header(frame_id="camera_color_optical_frame")
    rgb_msg = cv.image_to_msg(rgb[..., ::-1], "bgr8", hdr, Image)              # drivers often send bgr8
    depth_msg = cv.depth_to_msg(lr, hdr, Image, "16UC1")
    rgb_info = cv.intrinsics_to_info(K, hdr, CameraInfo)
    depth_info = cv.intrinsics_to_info(K.scaled(lr.shape[1], lr.shape[0]), hdr, CameraInfo)
    pipe = Pipeline(PassThrough(np.where(hr > 0, hr, np.nan).astype(np.float32)), compute_points=True)

    def convert_in():
        return (cv.rgb_from_image(rgb_msg), cv.depth_from_image(depth_msg), cv.info_to_intrinsics(rgb_info),
                cv.info_to_intrinsics(depth_info))

    st = {}
    st["convert_in"], (r, d, ki, kd) = timed(convert_in, repeats)
    frame = Frame(rgb=r, depth=d, rgb_info=ki, depth_info=kd, stamp_ns=1)
    st["pipeline_no_model"], res = timed(lambda: pipe.process(frame), repeats)
    st["points_backproject"] = statistics.median(
        [pipe.process(frame).timings_ms["points"] for _ in range(repeats)])
    st["encode_depth"], dmsg = timed(lambda: cv.depth_to_msg(res.depth, hdr, Image), repeats)
    st["encode_info"], imsg = timed(lambda: cv.intrinsics_to_info(res.info, hdr, CameraInfo), repeats)
    st["encode_cloud"], pmsg = timed(lambda: cv.points_to_cloud(res.points, res.rgb, hdr, PointCloud2, PointField),
                                     repeats)
    st["serialize_all"], _ = timed(lambda: [serialize_message(m) for m in (dmsg, imsg, pmsg)], repeats)
    # registration is optional (register_depth:=true): measured separately, not part of the default budget
    preg = Pipeline(PassThrough(res.depth), register=True, compute_points=False)
    st["register_optional"] = statistics.median([preg.process(frame).timings_ms["register"] for _ in range(repeats)])

    rclpy.init()
    pub_node, sub_node = rclpy.create_node("bench_pub"), rclpy.create_node("bench_sub")
    pubs = [pub_node.create_publisher(t, n, 5) for t, n in [(Image, "d"), (CameraInfo, "i"), (PointCloud2, "p")]]
    got = []
    for t, n in [(Image, "d"), (CameraInfo, "i"), (PointCloud2, "p")]:
        sub_node.create_subscription(t, n, lambda m: got.append(1), 5)
    ex = rclpy.executors.SingleThreadedExecutor()
    ex.add_node(sub_node)
    th = threading.Thread(target=spin_quietly, args=(ex,), daemon=True)
    th.start()
    end = time.monotonic() + 5
    while time.monotonic() < end and not all(p.get_subscription_count() for p in pubs):
        time.sleep(0.05)

    def publish():
        for p, m in zip(pubs, (dmsg, imsg, pmsg)):
            p.publish(m)
    st["publish_all"], _ = timed(publish, repeats)
    pub_node.destroy_node()
    sub_node.destroy_node()
    ex.shutdown()
    rclpy.shutdown()
    budget = ["convert_in", "pipeline_no_model", "encode_depth", "encode_info", "encode_cloud", "publish_all"]
    st["total_non_model"] = sum(st[k] for k in budget)
    return {"frame": "640x480 bgr8 + 160x120 16UC1 -> 640x480 32FC1 + organized XYZRGB cloud",
            "stages_ms_median": st, "budget_stages": budget, "budget_ms": 15.0,
            "within_budget": st["total_non_model"] <= 15.0, "repeats": repeats}


SENSOR_TOPICS = [("rgb/image", Image), ("depth/image", Image), ("rgb/camera_info", CameraInfo),
                 ("depth/camera_info", CameraInfo)]


def sensor_publishers(src, depth: int = 5) -> dict:
    """The input publishers of a fake RGB-D camera on node ``src``, by topic (``SENSOR_TOPICS``)."""
    return {n: src.create_publisher(t, n, depth) for n, t in SENSOR_TOPICS}


def publish_frame(pubs: dict, rgb, lr, K, Kd) -> int:
    """Publish one frame stamped now (both camera infos, 16UC1 depth, rgb8 colour); returns the stamp in ns."""
    from builtin_interfaces.msg import Time

    ns = int(time.time() * 1e9)
    h = Header(stamp=Time(sec=ns // 10**9, nanosec=ns % 10**9), frame_id="camera_color_optical_frame")
    pubs["rgb/camera_info"].publish(cv.intrinsics_to_info(K, h, CameraInfo))
    pubs["depth/camera_info"].publish(cv.intrinsics_to_info(Kd, h, CameraInfo))
    pubs["depth/image"].publish(cv.depth_to_msg(lr, h, Image, "16UC1"))
    pubs["rgb/image"].publish(cv.image_to_msg(rgb, "rgb8", h, Image))
    return ns


def stop_graph(ex, node, src, drain_s: float = 3.0) -> dict:
    """After a stream: let the last frames drain for ``drain_s``, take the node's counters, shut the executor
    and rclpy down. Returns the counters."""
    time.sleep(drain_s)
    counts = dict(node.stats.counts)
    ex.shutdown()
    node.destroy_node()
    src.destroy_node()
    rclpy.shutdown()
    return counts


def bench_e2e(seconds: float, rate: float = 30.0, steps=None) -> dict:
    from rclpy.parameter import Parameter

    from dsr_diff_ros.msg import UpscaleStats
    from dsr_diff_ros.ros.node import UpscaleNode, load_upscaler

    up = load_upscaler("", "cpu")  # as the node loads it
    rgb, _, lr, K = sample()
    rclpy.init()
    over = [Parameter("warmup", value=True)] + ([Parameter("steps", value=int(steps))] if steps else [])
    node = UpscaleNode(upscaler=up, parameter_overrides=over)
    src = rclpy.create_node("bench_sensor")
    pubs = sensor_publishers(src)
    stats = []
    src.create_subscription(UpscaleStats, "depth_upscaler/stats", lambda m: stats.append((time.monotonic(), m)), 50)
    src.create_subscription(Image, "depth_upscaled/image", lambda m: None, 5)  # a consumer: the node is lazy
    ex = rclpy.executors.SingleThreadedExecutor()  # as dsr-diff-node spins it
    ex.add_node(node)
    ex.add_node(src)
    th = threading.Thread(target=spin_quietly, args=(ex,), daemon=True)
    th.start()
    time.sleep(1.0)
    t0, sent, period = time.monotonic(), 0, 1.0 / rate
    Kd = K.scaled(lr.shape[1], lr.shape[0])
    while time.monotonic() - t0 < seconds:
        publish_frame(pubs, rgb, lr, K, Kd)
        sent += 1
        time.sleep(max(0.0, t0 + sent * period - time.monotonic()))
    c = stop_graph(ex, node, src)
    lat = np.array([m.latency_total_ms for _, m in stats])
    inf = np.array([m.latency_inference_ms for _, m in stats])
    half = len(lat) // 2
    span = (stats[-1][0] - stats[0][0]) if len(stats) > 1 else float("nan")
    return {"input_rate_hz": rate, "seconds": seconds, "pairs_sent": sent, "counters": c,
            "outputs": len(stats), "output_rate_hz": (len(stats) - 1) / span if len(stats) > 1 else 0.0,
            "steps": int(stats[-1][1].diffusion_steps) if stats else None,
            "latency_total_ms": {f"p{q}": float(np.percentile(lat, q)) for q in (50, 90, 99)} if lat.size else {},
            "latency_inference_ms_p50": float(np.median(inf)) if inf.size else None,
            "latency_p50_first_half_ms": float(np.median(lat[:half])) if half else None,
            "latency_p50_second_half_ms": float(np.median(lat[half:])) if half else None,
            "device": stats[-1][1].device if stats else None, "model_id": up.model_id,
            "frame": "640x480 rgb8 + 160x120 16UC1"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--e2e", action="store_true", help="also run the 30 Hz end-to-end run with the real model")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--no-tune-malloc", action="store_true", help="measure with glibc's default allocator settings")
    a = ap.parse_args(argv)
    tuned = False if a.no_tune_malloc else tune_malloc()  # as dsr-diff-node does at start-up
    out = {"machine": machine(), "malloc_tuned": tuned, "stages": bench_stages(a.repeats)}
    print(f"machine: {out['machine']}")
    print(f"{'stage':<24}{'median ms':>10}")
    for k, v in out["stages"]["stages_ms_median"].items():
        print(f"{k:<24}{v:>10.2f}")
    print(f"budget 15 ms: {'OK' if out['stages']['within_budget'] else 'EXCEEDED'}")
    if a.e2e:
        try:
            out["e2e"] = e = bench_e2e(a.seconds, steps=a.steps)
            print(f"e2e 30 Hz for {a.seconds:.0f} s: sent {e['pairs_sent']}, output {e['outputs']} "
                  f"({e['output_rate_hz']:.2f} Hz), replaced {e['counters']['pairs_replaced']}, "
                  f"latency p50/p90/p99 {e['latency_total_ms']}, p50 1st/2nd half "
                  f"{e['latency_p50_first_half_ms']}/{e['latency_p50_second_half_ms']} ms")
        except FileNotFoundError as ex:
            out["e2e"] = {"skipped": f"no trained weights: {ex}"}
            print(out["e2e"]["skipped"])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

"""CPU time of the ``dsr-diff-node`` process under a 30 Hz RGB-D stream, with and without a subscriber on its
output, lazy (default) and ``lazy:=false``.

Each case starts the real console script (shipped weights, CPU), streams 640x480 rgb8 + 160x120 16UC1 + camera
info at 30 Hz from this process, waits ``--settle`` s, then reads the node's user+system CPU time from
/proc/<pid>/stat over ``--seconds`` s (percent of one core).

    python bench/bench_idle.py [--seconds 20]
Writes bench/results/idle.json and prints a table.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_node import machine, sample, spin_quietly  # also sets a private ROS_DOMAIN_ID, localhost only

import rclpy  # noqa: E402
from builtin_interfaces.msg import Time  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from dsr_diff_ros import convert as cv  # noqa: E402

CASES = [("lazy, no subscriber", True, False), ("lazy, subscriber on depth_upscaled/image", True, True),
         ("lazy:=false, no subscriber", False, False)]


def cpu_seconds(pid: int) -> float:
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")   # utime, stime


class Stream:
    """30 Hz colour + depth + colour camera info, stamped with the wall clock."""

    def __init__(self, node, rate=30.0):
        rgb, _, lr, K = sample()
        self.msgs = (cv.image_to_msg(rgb, "rgb8", Header(), Image), cv.depth_to_msg(lr, Header(), Image, "16UC1"),
                     cv.intrinsics_to_info(K, Header(), CameraInfo))
        self.pubs = [node.create_publisher(t, n, 5) for n, t in
                     [("rgb/image", Image), ("depth/image", Image), ("rgb/camera_info", CameraInfo)]]
        self.period, self.stop, self.sent = 1.0 / rate, threading.Event(), 0
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()

    def run(self):
        t0 = time.monotonic()
        while not self.stop.is_set():
            ns = time.time_ns()
            h = Header(stamp=Time(sec=ns // 10**9, nanosec=ns % 10**9), frame_id="camera_color_optical_frame")
            for p, m in zip(self.pubs[::-1], self.msgs[::-1]):   # info first, colour last
                m.header = h
                p.publish(m)
            self.sent += 1
            time.sleep(max(0.0, t0 + self.sent * self.period - time.monotonic()))


def run_case(name, lazy, listen, seconds, settle):
    exe = shutil.which("dsr-diff-node") or str(Path(sys.executable).parent / "dsr-diff-node")
    proc = subprocess.Popen([exe, "--ros-args", "-p", "device:=cpu", "-p", f"lazy:={str(lazy).lower()}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rclpy.init()
    src = rclpy.create_node("idle_bench")
    got = []
    if listen:
        src.create_subscription(Image, "depth_upscaled/image", lambda m: got.append(time.monotonic()), 5)
    ex = rclpy.executors.SingleThreadedExecutor()
    ex.add_node(src)
    threading.Thread(target=spin_quietly, args=(ex,), daemon=True).start()
    try:
        end = time.monotonic() + 120
        while src.count_publishers("depth_upscaled/image") == 0 and time.monotonic() < end:
            time.sleep(0.2)
        stream = Stream(src)
        time.sleep(settle)                       # warm-up done, subscriptions settled
        n0, c0, t0 = len(got), cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1, n1 = cpu_seconds(proc.pid), time.monotonic(), len(got)
        stream.stop.set()
        return {"case": name, "lazy": lazy, "subscriber": listen, "seconds": round(t1 - t0, 2),
                "node_cpu_s": round(c1 - c0, 3), "node_cpu_percent_of_one_core": round(100 * (c1 - c0) / (t1 - t0), 1),
                "outputs": n1 - n0, "input_pairs_sent_per_s": round(stream.sent / (t1 - t0 + settle), 1)}
    finally:
        ex.shutdown()
        src.destroy_node()
        rclpy.shutdown()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--settle", type=float, default=8.0)
    a = ap.parse_args(argv)
    rows = [run_case(n, lazy, listen, a.seconds, a.settle) for n, lazy, listen in CASES]
    out = {"machine": machine(), "stream": "30 Hz 640x480 rgb8 + 160x120 16UC1 + camera_info", "cases": rows}
    print(f"machine: {out['machine']}\n{'case':<44}{'node CPU %':>11}{'outputs':>9}")
    for r in rows:
        print(f"{r['case']:<44}{r['node_cpu_percent_of_one_core']:>11.1f}{r['outputs']:>9}")
    path = Path(__file__).resolve().parent / "results" / "idle.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

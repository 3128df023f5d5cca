"""In-process ROS test harness: the node under test plus a 'sensor' node publishing RGB-D frames built from
the real Kinect frames bundled with the package (dsr_diff_ros/replay/sample), and collecting every output. One executor spins both in a thread."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import rclpy
from builtin_interfaces.msg import Time
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2
from std_msgs.msg import Header

from dsr_diff_ros import convert as cv
from dsr_diff_ros.data.shared import SAMPLE

DATA = SAMPLE
FRAME_ID = "camera_color_optical_frame"


def load_frames(n=3, size=(320, 240), lr=(160, 120)):
    """[(rgb (240,320,3) uint8, depth_lr (120,160) float32 m, rgb Intrinsics)] from the Kinect sequence."""
    from dsr_diff_ros.data.degradations import degrade
    from dsr_diff_ros.data.folder import RGBDFolder

    folder = RGBDFolder(DATA)
    out = []
    for i in range(n):
        s = folder.load(i % len(folder))
        rgb = cv2.resize(s.rgb, size, interpolation=cv2.INTER_AREA)
        hr = cv2.resize(s.depth, size, interpolation=cv2.INTER_NEAREST)
        d = degrade(hr, size[0] / lr[0], rng=np.random.default_rng(i))
        assert d.shape == (lr[1], lr[0])
        out.append((rgb, d.astype(np.float32), s.intrinsics.scaled(*size)))
    return out


def stamp(t_s: float) -> Time:
    ns = int(round(t_s * 1e9))
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


class Sensor:
    """Publishes rgb/image, depth/image and both camera infos; records outputs of the node."""

    def __init__(self, ns="", compressed=False, listen=True, name="fake_sensor"):
        from dsr_diff_ros.msg import UpscaleStats

        self.node = rclpy.create_node(name, namespace=ns)
        n = self.node
        self.compressed = compressed
        rgb = ("rgb/image/compressed", CompressedImage) if compressed else ("rgb/image", Image)
        self.pub = {k: n.create_publisher(t, k, 10) for k, t in [
            rgb, ("depth/image", Image), ("rgb/camera_info", CameraInfo), ("depth/camera_info", CameraInfo)]}
        self.pub["rgb/image"] = self.pub[rgb[0]]
        self.got = {"depth": [], "info": [], "points": [], "stats": []}
        self.lock = threading.Lock()
        for key, typ, topic in [] if not listen else [("depth", Image, "depth_upscaled/image"),
                                ("info", CameraInfo, "depth_upscaled/camera_info"),
                                ("points", PointCloud2, "depth_upscaled/points"),
                                ("stats", UpscaleStats, "depth_upscaler/stats")]:
            n.create_subscription(typ, topic, lambda m, k=key: self._rec(k, m), 10)

    def _rec(self, k, m):
        with self.lock:
            self.got[k].append(m)

    def clear(self):
        with self.lock:
            for v in self.got.values():
                v.clear()

    def publish_info(self, K, t, cam="rgb"):
        self.pub[f"{cam}/camera_info"].publish(cv.intrinsics_to_info(K, Header(stamp=stamp(t), frame_id=FRAME_ID),
                                                                     CameraInfo))

    def publish_pair(self, rgb, depth_m, K, t, depth_t=None, encoding="16UC1", infos=True, rgb_msg=None,
                     depth_msg=None):
        """Publish one RGB/depth pair at stamp t (depth at depth_t), with camera infos unless infos=False."""
        h = Header(stamp=stamp(t), frame_id=FRAME_ID)
        hd = Header(stamp=stamp(t if depth_t is None else depth_t), frame_id=FRAME_ID)
        if infos:
            self.publish_info(K, t, "rgb")
            self.publish_info(K.scaled(depth_m.shape[1], depth_m.shape[0]), t, "depth")
            time.sleep(0.02)  # let the infos be taken before the pair completes (drivers send them ahead)
        self.pub["depth/image"].publish(depth_msg or cv.depth_to_msg(depth_m, hd, Image, encoding))
        if rgb_msg is None and self.compressed:
            ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            rgb_msg = CompressedImage(header=h, format="rgb8; png compressed bgr8", data=png.tobytes())
        self.pub["rgb/image"].publish(rgb_msg or cv.image_to_msg(rgb, "rgb8", h, Image))

    def wait(self, key, n, timeout=30.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if len(self.got[key]) >= n:
                    return True
            time.sleep(0.02)
        return False


class Spinner:
    def __init__(self, *nodes):
        self.ex = SingleThreadedExecutor()  # as dsr-diff-node spins it (see docs/node.md, Executor)
        for n in nodes:
            self.ex.add_node(n)
        self.th = threading.Thread(target=self.ex.spin, daemon=True)
        self.th.start()

    def stop(self):
        """Shut the executor down and wait for its thread, so no node is destroyed under a running wait."""
        self.ex.shutdown(timeout_sec=10.0)
        self.th.join(timeout=10.0)


def wait_until(cond, timeout=10.0):
    """Poll ``cond()`` every 50 ms until it is true (-> True) or ``timeout`` seconds pass (-> False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def wait_for_matched(sensor: Sensor, timeout=10.0, depth_info=False):
    """Wait until the node's subscriptions see our publishers (depth/camera_info only when the node registers
    depth) and we see its publishers."""
    topics = ["rgb/image", "depth/image", "rgb/camera_info"] + (["depth/camera_info"] if depth_info else [])
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if all(sensor.pub[t].get_subscription_count() > 0 for t in topics) and \
                sensor.node.count_publishers("depth_upscaled/image") > 0:
            return True
        time.sleep(0.05)
    return False

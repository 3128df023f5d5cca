"""The ROS 2 node: synchronized RGB + depth in, super-resolved depth, camera info, XYZRGB cloud, stats and
diagnostics out. One pair in flight: a worker thread processes the newest pair; a pair arriving while the
worker is busy replaces the pending one (latest wins, counted as replaced), so latency does not grow
under load.
"""
from __future__ import annotations

import collections
import threading
import time

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2, PointField
from std_msgs.msg import Header

from .. import geometry
from ..frame import Frame
from ..pipeline import FrameError, Pipeline
from ..sync import SimpleFilter, make_synchronizer, reset_synchronizer, stamp_ns
from .. import convert
from . import params, qos
from ..convert import ConversionError
from .diagnostics import NodeStats, to_status
from .threads import default_cpu_threads

try:
    from ..msg import UpscaleStats
except ImportError:  # message not built: stats topic disabled
    UpscaleStats = None


def load_upscaler(weights: str, device: str):
    """Upscaler.from_pretrained(weights or None, device) (imported lazily: torch is heavy)."""
    from .. import Upscaler

    return Upscaler.from_pretrained(weights or None, device=device)


class UpscaleNode(Node):
    """Depth super-resolution node. ``upscaler`` may be injected (benchmarks); otherwise it is loaded from
    the ``weights``/``device`` parameters."""

    def __init__(self, upscaler=None, node_name: str = "depth_upscaler", **node_kwargs):
        super().__init__(node_name, **node_kwargs)
        self.p = params.declare_all(self)
        log = self.get_logger()
        self.up = upscaler if upscaler is not None else load_upscaler(self.p["weights"], self.p["device"])
        self.device = str(getattr(self.up, "device", "cpu"))
        self.model_id = str(getattr(self.up, "model_id", "unknown"))
        steps = params.declare_steps(self, int(getattr(self.up, "num_steps", 1000)),
                                     int(getattr(self.up, "default_steps", 1)))
        self.pipeline = Pipeline(self.up, steps=steps, register=self.p["register_depth"],
                                 fill_holes=self.p["fill_holes"], compute_points=self.p["publish_points"],
                                 decimation=self.p["points_decimation"])
        self.stats = NodeStats()
        self._tf = self._make_tf() if (self.p["register_depth"] and self.p["use_tf"]) else None
        self._fallback_T = geometry.transform_from_xyz_quat(self.p["depth_to_rgb"][:3], self.p["depth_to_rgb"][3:])
        self._setup_io()
        self._cond = threading.Condition()
        self._pending = None
        self._running = True
        self._last_stamp = {}
        self._ready = threading.Event()
        self._worker = threading.Thread(target=self._work, name="dsr_diff_worker", daemon=True)
        self._worker.start()
        self._ready.wait()  # thread settings and warm-up happen in the worker, where inference runs
        self.add_on_set_parameters_callback(self._on_set_params)
        self.create_timer(self.p["diagnostics_period"], self._publish_diagnostics)
        self._check_timer = self.create_timer(self.p["input_check_delay"], self._check_inputs)
        log.info(f"model {self.model_id} on {self.device}, steps={steps}/{self.pipeline.max_steps}, "
                 f"sync={self.sync_impl}, register={self.p['register_depth']}")

    # ------------------------------------------------------------------------------------------ setup
    def _qos(self, stream):
        return qos.profile(self.p[f"qos.{stream}.reliability"], self.p[f"qos.{stream}.depth"])

    def _setup_io(self):
        self.received = collections.Counter()
        rgb_type, rgb_topic = (CompressedImage, "rgb/image/compressed") if self.p["rgb_compressed"] \
            else (Image, "rgb/image")
        self.input_qos = {rgb_topic: self._qos("rgb"), "depth/image": self._qos("depth"),
                          "rgb/camera_info": self._qos("camera_info"), "depth/camera_info": self._qos("camera_info")}
        self.f_rgb, self.f_depth = SimpleFilter(), SimpleFilter()
        self.sync, self.sync_impl = make_synchronizer([self.f_rgb, self.f_depth], self.p["queue_size"],
                                                      self.p["slop"], exact=self.p["exact_sync"])
        self.sync.registerCallback(self._on_pair)
        self.infos = {"rgb": collections.deque(maxlen=30), "depth": collections.deque(maxlen=30)}
        self.create_subscription(rgb_type, rgb_topic, lambda m: self._on_image("rgb", rgb_topic, m),
                                 self.input_qos[rgb_topic])
        self.create_subscription(Image, "depth/image", lambda m: self._on_image("depth", "depth/image", m),
                                 self.input_qos["depth/image"])
        for cam in ("rgb", "depth"):
            self.create_subscription(CameraInfo, f"{cam}/camera_info", lambda m, c=cam: self._on_info(c, m),
                                     self.input_qos[f"{cam}/camera_info"])
        self.pub_depth = self.create_publisher(Image, "depth_upscaled/image", self._qos("image_out"))
        self.pub_info = self.create_publisher(CameraInfo, "depth_upscaled/camera_info", self._qos("image_out"))
        self.pub_points = self.create_publisher(PointCloud2, "depth_upscaled/points", self._qos("points_out"))
        self.pub_stats = None
        if UpscaleStats is not None:
            self.pub_stats = self.create_publisher(UpscaleStats, "~/stats", self._qos("stats"))
        else:
            self.get_logger().warning("dsr_diff_ros.msg.UpscaleStats not importable: ~/stats disabled")
        self.pub_diag = self.create_publisher(DiagnosticArray, "/diagnostics", 10)

    def _make_tf(self):
        try:
            import tf2_ros
        except ImportError:
            self.get_logger().warning("tf2_ros not importable: using the depth_to_rgb parameter as extrinsic")
            return None
        buf = tf2_ros.Buffer()
        self._tf_listener = tf2_ros.TransformListener(buf, self)
        return buf

    # -------------------------------------------------------------------------------------- callbacks
    def _check_time(self, key, t):
        last = self._last_stamp.get(key)
        self._last_stamp[key] = t
        if last is not None and t < last - int(self.p["time_jump_reset"] * 1e9):
            self.reset(f"{key} stamp jumped back {(last - t) / 1e9:.3f} s (bag loop?)", t)

    def reset(self, why: str, t_new: int | None = None):
        """Forget queued pairs, the pending pair and camera infos newer than ``t_new`` (time went backwards)."""
        self.get_logger().warning(f"resetting synchronizer and state: {why}")
        self.stats.inc("time_resets")
        reset_synchronizer(self.sync)
        tol = int(self.p["info_tolerance"] * 1e9)
        for cam, d in self.infos.items():
            keep = [(s, m) for s, m in d if t_new is not None and s <= t_new + tol]
            d.clear()
            d.extend(keep)
        self._last_stamp.clear()
        with self._cond:
            self._pending = None

    def _on_image(self, key, topic, msg):
        self.received[topic] += 1
        t = stamp_ns(msg)
        if t is not None:
            self._check_time(key, t)
            self._last_stamp[key] = t
        (self.f_rgb if key == "rgb" else self.f_depth).signalMessage(msg)

    def _on_info(self, cam, msg):
        self.received[f"{cam}/camera_info"] += 1
        t = stamp_ns(msg)
        q = self.infos[cam]
        if q and t < q[-1][0]:
            if t < q[-1][0] - int(self.p["time_jump_reset"] * 1e9):
                q.clear()
            else:
                return  # out of order, keep the newest
        q.append((t, msg))

    def _on_pair(self, rgb_msg, depth_msg):
        self.stats.inc("pairs_received")
        with self._cond:
            if self._pending is not None:
                self.stats.inc("pairs_replaced")
            self._pending = (rgb_msg, depth_msg, time.perf_counter())
            self._cond.notify()

    def _on_set_params(self, plist):
        for p in plist:
            if p.name == "steps":
                try:
                    self.pipeline.set_steps(int(p.value))
                except (TypeError, ValueError) as e:
                    return SetParametersResult(successful=False, reason=str(e))
            elif p.name == "points_decimation":
                if not 1 <= int(p.value) <= 16:
                    return SetParametersResult(successful=False, reason="points_decimation must be in 1..16")
                self.pipeline.decimation = int(p.value)
            elif p.name == "publish_points":
                self.pipeline.compute_points = bool(p.value)
            elif p.name == "fill_holes":
                self.pipeline.fill_holes = bool(p.value)
        return SetParametersResult(successful=True)

    # ----------------------------------------------------------------------------------------- worker
    def _work(self):
        try:
            if self.device == "cpu":  # OpenMP thread counts are per thread: cap them here, where inference runs
                import torch

                torch.set_num_threads(self.p["cpu_threads"] or default_cpu_threads())
            if self.p["warmup"] and hasattr(self.up, "warmup"):  # first-call costs paid on this thread
                t = time.perf_counter()
                self.up.warmup()
                self.get_logger().info(f"warm-up done in {time.perf_counter() - t:.2f} s")
        except Exception as e:  # a failed warm-up is not fatal: the first frame pays the cost instead
            self.get_logger().warning(f"warm-up failed: {type(e).__name__}: {e}")
        finally:
            self._ready.set()
        while True:
            with self._cond:
                while self._running and self._pending is None:
                    self._cond.wait(0.5)
                if not self._running:
                    return
                item, self._pending = self._pending, None
            try:
                self._process(*item)
            except (ConversionError, FrameError) as e:
                self._bad_input(str(e))
            except Exception as e:  # never let one frame kill the node
                self._bad_input(f"unexpected {type(e).__name__}: {e}")

    def _bad_input(self, why):
        self.stats.inc("pairs_dropped_bad_input")
        self.stats.last_error = why
        self.get_logger().warning(f"dropped input pair: {why}", throttle_duration_sec=2.0)

    def _info_for(self, cam, t):
        tol = int(self.p["info_tolerance"] * 1e9)
        for s, m in reversed(self.infos[cam]):
            if s <= t + tol:
                return m
        return None

    def _extrinsic(self, rgb_frame, depth_frame, t):
        if self._tf is not None:
            try:
                tr = self._tf.lookup_transform(rgb_frame, depth_frame, rclpy.time.Time(nanoseconds=t)).transform
                return geometry.transform_from_xyz_quat(
                    (tr.translation.x, tr.translation.y, tr.translation.z),
                    (tr.rotation.x, tr.rotation.y, tr.rotation.z, tr.rotation.w))
            except Exception as e:  # tf2 exceptions: lookup/extrapolation/connectivity
                self.get_logger().warning(f"tf {depth_frame}->{rgb_frame} unavailable ({e}); using depth_to_rgb",
                                          throttle_duration_sec=5.0)
        return self._fallback_T

    def _process(self, rgb_msg, depth_msg, t_recv):
        t0 = time.perf_counter()
        t = stamp_ns(rgb_msg)
        rgb = (convert.rgb_from_compressed if self.p["rgb_compressed"] else convert.rgb_from_image)(rgb_msg)
        depth = convert.depth_from_image(depth_msg)
        rgb_info_msg = self._info_for("rgb", t)
        if rgb_info_msg is None:
            raise FrameError("no rgb/camera_info at or before the image stamp")
        rgb_info = convert.info_to_intrinsics(rgb_info_msg)
        depth_info_msg = self._info_for("depth", stamp_ns(depth_msg))
        depth_info = convert.info_to_intrinsics(depth_info_msg) if depth_info_msg is not None else None
        if depth_info is not None and (depth_info.width, depth_info.height) != depth.shape[::-1] \
                and not self.p["register_depth"]:
            depth_info = None  # only used for registration; a stale size must not reject registered depth
        T = None
        if self.p["register_depth"]:
            T = self._extrinsic(rgb_msg.header.frame_id, depth_msg.header.frame_id, t)
        frame = Frame(rgb=rgb, depth=depth, rgb_info=rgb_info, depth_info=depth_info, depth_to_rgb=T,
                      stamp_ns=t, frame_id=rgb_msg.header.frame_id)
        t1 = time.perf_counter()
        res = self.pipeline.process(frame)
        t2 = time.perf_counter()
        if res.depth.shape != rgb.shape[:2]:  # belt and braces: never publish a wrong-sized image
            raise FrameError(f"output {res.depth.shape} differs from rgb {rgb.shape[:2]}")
        header = Header(stamp=rgb_msg.header.stamp, frame_id=rgb_msg.header.frame_id)
        self.pub_depth.publish(convert.depth_to_msg(res.depth, header, Image, self.p["output_encoding"]))
        self.pub_info.publish(convert.intrinsics_to_info(res.info, header, CameraInfo))
        if res.points is not None and self.pipeline.compute_points:
            self.pub_points.publish(convert.points_to_cloud(res.points, res.rgb, header, PointCloud2, PointField))
        t3 = time.perf_counter()
        total = (t3 - t_recv) * 1e3
        self.stats.output(total)
        if res.sanitised:
            self.stats.inc("pairs_sanitised")
            self.get_logger().info(f"{res.sanitised} non-finite/negative depth values treated as invalid",
                                   throttle_duration_sec=10.0)
        self._publish_stats(header, res, {"convert": (t1 - t0) * 1e3, "publish": (t3 - t2) * 1e3,
                                          "total": total})

    def _publish_stats(self, header, res, ms):
        if self.pub_stats is None:
            return
        c = self.stats.counts
        tm = res.timings_ms
        m = UpscaleStats(
            header=header, input_width=res.input_hw[1], input_height=res.input_hw[0],
            output_width=res.output_hw[1], output_height=res.output_hw[0],
            scale=float(res.output_hw[1] / res.input_hw[1]), diffusion_steps=int(min(res.steps, 255)),
            latency_convert_ms=float(ms["convert"] + tm["validate"]), latency_register_ms=float(tm["register"]),
            latency_inference_ms=float(tm["infer"]), latency_points_ms=float(tm["points"]),
            latency_publish_ms=float(ms["publish"]), latency_total_ms=float(ms["total"]),
            valid_ratio_in=float(res.valid_ratio_in), valid_ratio_out=float(res.valid_ratio_out),
            pairs_received=c["pairs_received"], pairs_processed=c["pairs_processed"],
            pairs_replaced=c["pairs_replaced"], pairs_dropped_bad_input=c["pairs_dropped_bad_input"],
            device=self.device, model_id=self.model_id)
        self.pub_stats.publish(m)

    # ------------------------------------------------------------------------------------ monitoring
    def _publish_diagnostics(self):
        snap = self.stats.snapshot()
        extra = {"device": self.device, "model_id": self.model_id, "steps": self.pipeline.steps,
                 "synchronizer": self.sync_impl}
        st = to_status(snap, extra, DiagnosticStatus, KeyValue, f"{self.get_name()}: depth upscaling",
                       self.device)
        self.pub_diag.publish(DiagnosticArray(header=Header(stamp=self.get_clock().now().to_msg()), status=[st]))

    def _check_inputs(self):
        for w in qos.check_inputs(self, self.input_qos, self.received):
            self.get_logger().warning(w, throttle_duration_sec=10.0)

    def destroy_node(self):
        """Stop the worker, then destroy the node. Works from any partially built state (a failed
        ``__init__``: rclpy.shutdown() destroys tracked nodes), so the start-up error stays the one shown."""
        cond, worker = getattr(self, "_cond", None), getattr(self, "_worker", None)
        if cond is not None:
            with cond:
                self._running = False
                cond.notify_all()
        if worker is not None and worker.is_alive() and threading.current_thread() is not worker:
            worker.join(timeout=5.0)
        return super().destroy_node()


__all__ = ["UpscaleNode", "load_upscaler"]

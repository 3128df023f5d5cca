"""The ROS 2 node: synchronized RGB + depth + camera info in, super-resolved depth, camera info, XYZRGB cloud,
stats and diagnostics out. One pair in flight: a worker thread processes the newest pair; a pair arriving while
the worker is busy replaces the pending one (latest wins, counted as replaced), so latency does not grow
under load. Lazy (default): inputs are subscribed only while an output has a subscriber.
"""
from __future__ import annotations

import collections
import threading
import time

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import SetParametersResult
from rclpy.event_handler import PublisherEventCallbacks, UnsupportedEventTypeError
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2, PointField
from std_msgs.msg import Header

from .. import geometry
from ..frame import Frame
from ..pipeline import FrameError, Pipeline
from .. import convert
from ..convert import ConversionError
from ..sync import SimpleFilter, make_synchronizer, reset_synchronizer, stamp_ns
from ..sync_watch import UnmatchedFrames
from . import params, qos, topics
from .diagnostics import NodeStats, to_status
from .inputs import Inputs
from .threads import default_cpu_threads

try:
    from ..msg import UpscaleStats
except ImportError:  # message not built: stats topic disabled
    UpscaleStats = None


def load_upscaler(weights: str, device: str, experts: str = "auto"):
    """Upscaler.from_pretrained(weights or None, device); experts "sensor": the sensor expert alone (imported
    lazily: torch is heavy)."""
    from .. import Upscaler

    return Upscaler.from_pretrained(weights or None, device=device, experts=experts == "auto")


class UpscaleNode(Node):
    """Depth super-resolution node. ``upscaler`` may be injected (benchmarks); otherwise it is loaded from
    the ``weights``/``device`` parameters."""

    def __init__(self, upscaler=None, node_name: str = "depth_upscaler", **node_kwargs):
        super().__init__(node_name, **node_kwargs)
        self.p = params.declare_all(self)
        log = self.get_logger()
        self.up = upscaler if upscaler is not None else load_upscaler(self.p["weights"], self.p["device"],
                                                                      self.p["experts"])
        self.device = str(getattr(self.up, "device", "cpu"))
        self.model_id = str(getattr(self.up, "model_id", "unknown"))
        steps = params.declare_steps(self, int(getattr(self.up, "num_steps", 1000)),
                                     int(getattr(self.up, "default_steps", 1)))
        self.pipeline = Pipeline(self.up, steps=steps, register=self.p["register_depth"],
                                 fill_holes=self.p["fill_holes"], compute_points=self.p["publish_points"],
                                 decimation=self.p["points_decimation"], ensemble=self.p["ensemble"])
        self.stats = NodeStats()
        self._tf = self._make_tf() if (self.p["register_depth"] and self.p["use_tf"]) else None
        self._fallback_T = geometry.transform_from_xyz_quat(self.p["depth_to_rgb"][:3], self.p["depth_to_rgb"][3:])
        self._cond = threading.Condition()
        self._pending = None
        self._updates = {}          # parameter values for the worker, applied between frames
        self._running = True
        self._last_stamp = {}
        self._in_lock = threading.RLock()   # input path: synchronizer, unmatched-frame watch, subscriptions
        self._setup_sync()
        self._setup_outputs()
        self._ready = threading.Event()
        self._worker = threading.Thread(target=self._work, name="dsr_diff_worker", daemon=True)
        self._worker.start()
        self._ready.wait()  # thread settings and warm-up happen in the worker, where inference runs
        self.add_on_set_parameters_callback(self._validate_params)
        self.add_post_set_parameters_callback(self._apply_params)
        self.create_timer(self.p["diagnostics_period"], self._publish_diagnostics)
        self._check_timer = self.create_timer(self.p["input_check_delay"], self._check_inputs)
        self._update_inputs()
        log.info(f"model {self.model_id} on {self.device}, steps={steps}/{self.pipeline.max_steps}, "
                 f"ensemble={self.pipeline.ensemble}, "
                 f"sync={self.sync_impl}, register={self.p['register_depth']}, lazy={self.p['lazy']}")

    # ------------------------------------------------------------------------------------------ setup
    def _setup_sync(self):
        """Colour image, depth image, colour camera_info (and depth camera_info when registering) in one
        synchronizer, as depth_image_proc pairs its inputs."""
        self.received = collections.Counter()
        rgb = (CompressedImage, topics.name("rgb_compressed")) if self.p["rgb_compressed"] \
            else (Image, topics.name("rgb"))
        specs = [("rgb", *rgb, "rgb"), ("depth", Image, topics.name("depth"), "depth"),
                 ("rgb_info", CameraInfo, topics.name("rgb_info"), "camera_info")]
        if self.p["register_depth"]:
            specs.append(("depth_info", CameraInfo, topics.name("depth_info"), "camera_info"))
        self.inputs = Inputs(self, specs, self._on_input)
        self.filters = {k: SimpleFilter() for k, *_ in specs}
        self.sync, self.sync_impl = make_synchronizer(list(self.filters.values()), self.p["queue_size"],
                                                      self.p["slop"], exact=self.p["exact_sync"])
        self.sync.registerCallback(self._on_sync)
        tol = 0 if self.p["exact_sync"] else max(0, int(round(self.p["slop"] * 1e9)) - 1)  # spread < slop
        self.watch = UnmatchedFrames(self.p["queue_size"], tol, [k for k in self.filters if k.endswith("_info")])

    def _setup_outputs(self):
        def pub(typ, key, stream, lazy_output=True):
            kw = dict(qos_overriding_options=qos.overrides())
            if lazy_output:
                kw["event_callbacks"] = PublisherEventCallbacks(matched=lambda _info: self._update_inputs())
            try:
                return self.create_publisher(typ, topics.name(key), qos.default(stream), **kw)
            except UnsupportedEventTypeError:  # middleware without matched events: poll instead
                if self._poll_timer is None:
                    self._poll_timer = self.create_timer(0.5, self._update_inputs)
                kw.pop("event_callbacks")
                return self.create_publisher(typ, topics.name(key), qos.default(stream), **kw)

        self._poll_timer = None
        self.pub_depth = pub(Image, "depth_out", "image_out")
        self.pub_info = pub(CameraInfo, "info_out", "image_out")
        self.pub_points = pub(PointCloud2, "points_out", "points_out")
        self.pub_stats = None
        if UpscaleStats is not None:
            self.pub_stats = pub(UpscaleStats, "stats", "stats", lazy_output=False)
        else:
            self.get_logger().warning("dsr_diff_ros.msg.UpscaleStats not importable: ~/stats disabled")
        self.pub_diag = self.create_publisher(DiagnosticArray, topics.name("diagnostics"), 10)

    # ------------------------------------------------------------------------------ lazy subscription
    def output_subscribers(self) -> int:
        pubs = [self.pub_depth, self.pub_info] + ([self.pub_points] if self.p["publish_points"] else [])
        return sum(p.get_subscription_count() for p in pubs)

    def _update_inputs(self):
        """Subscribe to the inputs while they are needed (not lazy, or an output has a subscriber)."""
        with self._in_lock:
            want = not self.p["lazy"] or self.output_subscribers() > 0
            if want and not self.inputs.active:
                self.inputs.subscribe()
                self.get_logger().info("subscribed to the inputs" + (" (an output has a subscriber)"
                                                                     if self.p["lazy"] else ""))
            elif not want and self.inputs.active:
                self.inputs.unsubscribe()
                self._clear_inputs()
                self.get_logger().info("no subscriber on the outputs: unsubscribed from the inputs (lazy)")

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
            self.reset(f"{key} stamp jumped back {(last - t) / 1e9:.3f} s (bag loop?)")

    def reset(self, why: str):
        """Forget queued messages and the pending pair (time went backwards)."""
        self.get_logger().warning(f"resetting synchronizer and state: {why}")
        self.stats.inc("time_resets")
        self._clear_inputs()

    def _clear_inputs(self):
        with self._in_lock:
            reset_synchronizer(self.sync)
            self.watch.reset()
            self._last_stamp.clear()
        with self._cond:
            self._pending = None

    def _on_input(self, key, msg):
        with self._in_lock:
            self.received[self.inputs.topic(key)] += 1
            t = stamp_ns(msg)
            if t is not None:
                self._check_time(key, t)
                if key == "rgb":
                    for t_old, why in self.watch.image(t):
                        self._unmatched(t_old, why)
                elif key.endswith("_info"):
                    self.watch.info(key, t)
            self.filters[key].signalMessage(msg)

    def _unmatched(self, t, why):
        if why == "camera_info":
            self.stats.inc("frames_without_camera_info")
            self.stats.last_error = f"colour frame {t / 1e9:.3f} s: no camera_info with its stamp (within slop)"
            self.get_logger().warning(f"{self.stats.last_error}; frame skipped", throttle_duration_sec=2.0)
        else:
            self.stats.inc("frames_unpaired")

    def _on_sync(self, rgb_msg, depth_msg, rgb_info, depth_info=None):
        fresh, given_up = self.watch.matched(stamp_ns(rgb_msg))
        for t_old, why in given_up:
            self._unmatched(t_old, why)
        if not fresh:
            return  # older than a frame already matched: it was counted as unmatched
        self.stats.inc("pairs_received")
        with self._cond:
            if self._pending is not None:
                self.stats.inc("pairs_replaced")
            self._pending = (rgb_msg, depth_msg, rgb_info, depth_info, time.perf_counter())
            self._cond.notify()

    def _validate_params(self, plist):
        """The whole list is checked together; any reason rejects all of it (nothing is applied)."""
        why = params.check_update({p.name: p.value for p in plist}, self.pipeline.max_steps)
        return SetParametersResult(successful=not why, reason="; ".join(why))

    def _apply_params(self, plist):
        """After rclpy stored the values: the worker takes them together before its next frame."""
        mine = {p.name: p.value for p in plist if p.name in params.RUNTIME}
        self.p.update({k: v for k, v in mine.items() if k != "steps"})
        with self._cond:
            self._updates.update(mine)
        if {"lazy", "publish_points"} & set(mine):
            self._update_inputs()

    def _take_updates(self):
        with self._cond:
            upd, self._updates = self._updates, {}
        for name, v in upd.items():
            if name == "steps":
                self.pipeline.set_steps(int(v))
            elif name == "points_decimation":
                self.pipeline.decimation = int(v)
            elif name == "publish_points":
                self.pipeline.compute_points = bool(v)
            elif name == "fill_holes":
                self.pipeline.fill_holes = bool(v)
            elif name == "ensemble":
                self.pipeline.set_ensemble(int(v))

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
                self._take_updates()
                self._process(*item)
            except (ConversionError, FrameError) as e:
                self._bad_input(str(e))
            except Exception as e:  # never let one frame kill the node
                self._bad_input(f"unexpected {type(e).__name__}: {e}")

    def _bad_input(self, why):
        self.stats.inc("pairs_dropped_bad_input")
        self.stats.last_error = why
        self.get_logger().warning(f"dropped input pair: {why}", throttle_duration_sec=2.0)

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

    def _process(self, rgb_msg, depth_msg, rgb_info_msg, depth_info_msg, t_recv):
        t0 = time.perf_counter()
        t = stamp_ns(rgb_msg)
        rgb = (convert.rgb_from_compressed if self.p["rgb_compressed"] else convert.rgb_from_image)(rgb_msg)
        depth = convert.depth_from_image(depth_msg)
        rgb_info = convert.info_to_intrinsics(rgb_info_msg)
        depth_info = convert.info_to_intrinsics(depth_info_msg) if depth_info_msg is not None else None
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
        (h, w), (H, W) = res.input_hw, res.output_hw
        if geometry.upscale_ratio((h, w), (H, W)) < geometry.LOW_RATIO:   # e.g. depth aligned at the colour size
            self.stats.inc("pairs_low_ratio")
            self.get_logger().warning(
                f"depth {w}x{h} is within {geometry.LOW_RATIO}x of the colour resolution {W}x{H}: little to "
                "super-resolve (the model is trained for ratios 2-16); subscribe to the sensor's native depth (e.g. "
                "image_rect_raw, not a depth topic aligned to the colour camera)", throttle_duration_sec=30.0)
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
        idle = not self.inputs.active
        extra = {"device": self.device, "model_id": self.model_id, "steps": self.pipeline.steps,
                 "ensemble": self.pipeline.ensemble,
                 "synchronizer": self.sync_impl, "lazy": self.p["lazy"], "output_subscribers": self.output_subscribers(),
                 "inputs": "unsubscribed (lazy: no subscriber on the outputs)" if idle else "subscribed"}
        st = to_status(snap, extra, DiagnosticStatus, KeyValue, f"{self.get_name()}: depth upscaling",
                       self.device, idle=idle)
        self.pub_diag.publish(DiagnosticArray(header=Header(stamp=self.get_clock().now().to_msg()), status=[st]))

    def _check_inputs(self):
        self._update_inputs()  # backstop for a missed matched event
        with self._in_lock:
            profiles = self.inputs.profiles()
        for w in qos.check_inputs(self, profiles, self.received):
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

"""Rates, latency percentiles and counters of the node, rendered as diagnostic_msgs/DiagnosticArray content.

``NodeStats`` has no ROS import; ``to_status`` takes the DiagnosticStatus / KeyValue classes as arguments.
"""
from __future__ import annotations

import collections
import threading
import time

import numpy as np


class NodeStats:
    """Thread-safe counters plus sliding windows (``window_s`` seconds) of input/output events and latencies."""

    COUNTERS = ("pairs_received", "pairs_processed", "pairs_replaced", "pairs_dropped_bad_input",
                "pairs_sanitised", "time_resets", "frames_without_camera_info", "frames_unpaired",
                "pairs_low_ratio")   # depth within 1.5x of the colour resolution: little to super-resolve

    def __init__(self, window_s: float = 10.0, clock=time.monotonic):
        self.window_s, self.clock = float(window_s), clock
        self.lock = threading.Lock()
        self.counts = {k: 0 for k in self.COUNTERS}
        self._in = collections.deque()
        self._out = collections.deque()   # (t, latency_ms)
        self.last_error = ""
        self.start = clock()

    def inc(self, name: str, n: int = 1):
        with self.lock:
            self.counts[name] += n
            if name == "pairs_received":
                self._in.append(self.clock())

    def output(self, latency_ms: float):
        with self.lock:
            self.counts["pairs_processed"] += 1
            self._out.append((self.clock(), float(latency_ms)))

    def _trim(self, now):
        while self._in and now - self._in[0] > self.window_s:
            self._in.popleft()
        while self._out and now - self._out[0][0] > self.window_s:
            self._out.popleft()

    def snapshot(self) -> dict:
        """Counters + input_rate_hz, output_rate_hz, latency_p50/p90/p99_ms over the window."""
        with self.lock:
            now = self.clock()
            self._trim(now)
            span = max(1e-3, min(self.window_s, now - self.start))
            lat = np.array([l for _, l in self._out]) if self._out else np.zeros(0)
            snap = dict(self.counts)
            snap["input_rate_hz"] = len(self._in) / span
            snap["output_rate_hz"] = len(self._out) / span
            for q in (50, 90, 99):
                snap[f"latency_p{q}_ms"] = float(np.percentile(lat, q)) if lat.size else float("nan")
            snap["last_error"] = self.last_error
            return snap


def to_status(snap: dict, extra: dict, status_cls, kv_cls, name: str, hardware_id: str, idle: bool = False):
    """DiagnosticStatus: OK when outputs flow or when idle (lazy, nobody listens), WARN when inputs arrive but
    nothing is output, or when no input at all."""
    level, msg = 0, "upscaling"
    if idle:
        msg = "idle: no subscriber on the outputs (lazy), inputs unsubscribed"
    elif snap["input_rate_hz"] == 0:
        level, msg = 1, "no synchronized input pairs"
    elif snap["output_rate_hz"] == 0:
        level, msg = 1, "inputs arrive but no output (see last_error)"
    elif snap["pairs_dropped_bad_input"] and snap["last_error"]:
        msg = "upscaling; some inputs rejected (see last_error)"
    elif snap.get("pairs_low_ratio"):
        msg = ("upscaling; depth near the colour resolution (pairs_low_ratio): little to super-resolve, subscribe "
               "to the sensor's native depth")
    values = {**{k: v for k, v in snap.items()}, **extra}
    kvs = [kv_cls(key=k, value=(f"{v:.3f}" if isinstance(v, float) else str(v))) for k, v in values.items()]
    return status_cls(level=bytes([level]), name=name, message=msg, hardware_id=hardware_id, values=kvs)

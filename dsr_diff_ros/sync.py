"""message_filters-compatible synchronizers without ROS imports (used when message_filters is missing).

Same constructors and matching semantics as ros2/message_filters (Python):

* ``TimeSynchronizer(fs, queue_size)``: per-input dict {stamp_ns: msg}; each dict keeps at most
  ``queue_size`` entries (oldest stamp dropped); every stamp present in all queues is emitted in time order.
* ``ApproximateTimeSynchronizer(fs, queue_size, slop, allow_headerless=False)``: on each arrival, the
  stamps of the *other* queues within ``slop`` seconds of the new stamp are candidates (closest first);
  the first combination (itertools.product order) whose spread max-min is strictly below ``slop`` is
  emitted and its messages removed from the queues. Headerless messages get the current wall time when
  ``allow_headerless`` (otherwise they are ignored).

Stamps may be builtin_interfaces/Time-like (``sec``, ``nanosec``) or rclpy Time (``nanoseconds``).
Extra: ``reset()`` empties the queues (used on a bag loop / time jump).
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from functools import reduce

_log = logging.getLogger(__name__)


def stamp_ns(msg, allow_headerless: bool = False, now_ns=time.time_ns):
    """Stamp of ``msg.header.stamp`` in integer nanoseconds; None if headerless and not allowed."""
    header = getattr(msg, "header", None)
    stamp = getattr(header, "stamp", None)
    if stamp is None:
        return int(now_ns()) if allow_headerless else None
    if hasattr(stamp, "nanoseconds"):
        return int(stamp.nanoseconds)
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


class SimpleFilter:
    """Base filter: ``registerCallback(cb, *args)`` and ``signalMessage(*msgs)``."""

    def __init__(self):
        self.callbacks = {}

    def registerCallback(self, cb, *args):  # noqa: N802 (message_filters name)
        conn = len(self.callbacks)
        self.callbacks[conn] = (cb, args)
        return conn

    def signalMessage(self, *msg):  # noqa: N802
        for cb, args in list(self.callbacks.values()):
            cb(*(msg + args))


class TimeSynchronizer(SimpleFilter):
    """Exact-stamp synchronizer over the input filters ``fs``; calls back ``cb(msg_1, ..., msg_N)``."""

    def __init__(self, fs, queue_size):
        SimpleFilter.__init__(self)
        self.queue_size = int(queue_size)
        self.lock = threading.RLock()
        self.connectInput(fs)

    def connectInput(self, fs):  # noqa: N802
        self.queues = [{} for _ in fs]
        self.input_connections = [f.registerCallback(self.add, q, i) for i, (f, q) in enumerate(zip(fs, self.queues))]

    def reset(self):
        """Forget every queued message (time jumped backwards, new bag loop...)."""
        with self.lock:
            for q in self.queues:
                q.clear()

    def _insert(self, queue, t, msg):
        queue[t] = msg
        while len(queue) > self.queue_size:
            del queue[min(queue)]

    def add(self, msg, my_queue, my_queue_index=None):
        t = stamp_ns(msg)
        if t is None:
            _log.warning("TimeSynchronizer: message without header.stamp ignored")
            return
        with self.lock:
            self._insert(my_queue, t, msg)
            common = reduce(set.intersection, [set(q) for q in self.queues])
            for s in sorted(common):
                msgs = [q[s] for q in self.queues]
                self.signalMessage(*msgs)
                for q in self.queues:
                    del q[s]


class ApproximateTimeSynchronizer(TimeSynchronizer):
    """Approximate-stamp synchronizer (``slop`` in seconds), same semantics as message_filters'."""

    def __init__(self, fs, queue_size, slop, allow_headerless=False):
        TimeSynchronizer.__init__(self, fs, queue_size)
        self.slop_ns = int(round(float(slop) * 1e9))
        self.allow_headerless = allow_headerless

    @property
    def slop(self) -> float:
        return self.slop_ns / 1e9

    def add(self, msg, my_queue, my_queue_index=None):
        t = stamp_ns(msg, self.allow_headerless)
        if t is None:
            _log.warning("ApproximateTimeSynchronizer: headerless message ignored (allow_headerless=False)")
            return
        with self.lock:
            self._insert(my_queue, t, msg)
            others = [q for i, q in enumerate(self.queues) if my_queue_index is None or i != my_queue_index]
            candidates = []
            for q in others:
                near = sorted((abs(s - t), s) for s in q if abs(s - t) <= self.slop_ns)
                if not near:
                    return
                candidates.append([s for _, s in near])
            for combo in itertools.product(*candidates):
                combo = list(combo)
                if my_queue_index is not None:
                    combo.insert(my_queue_index, t)
                if max(combo) - min(combo) >= self.slop_ns:
                    continue
                if any(s not in q for q, s in zip(self.queues, combo)):
                    continue
                msgs = [q[s] for q, s in zip(self.queues, combo)]
                self.signalMessage(*msgs)
                for q, s in zip(self.queues, combo):
                    del q[s]
                break


def reset_synchronizer(sync) -> None:
    """Empty the queues of this module's synchronizers or of message_filters' (which have no reset())."""
    if hasattr(sync, "reset"):
        sync.reset()
        return
    lock = getattr(sync, "lock", None)
    if lock is not None:
        lock.acquire()
    try:
        for q in getattr(sync, "queues", []):
            q.clear()
    finally:
        if lock is not None:
            lock.release()


def make_synchronizer(fs, queue_size, slop, exact=False, prefer_ros=True):
    """Real message_filters synchronizer when importable (and ``prefer_ros``), else this module's.

    Returns (synchronizer, implementation name)."""
    if prefer_ros:
        try:
            import message_filters as mf  # noqa: F401

            if exact:
                return mf.TimeSynchronizer(fs, queue_size), "message_filters"
            return mf.ApproximateTimeSynchronizer(fs, queue_size, slop), "message_filters"
        except ImportError:
            pass
    if exact:
        return TimeSynchronizer(fs, queue_size), "dsr_diff_ros.sync"
    return ApproximateTimeSynchronizer(fs, queue_size, slop), "dsr_diff_ros.sync"

"""Counts the colour frames that a synchronizer never matches, and says why (no ROS imports).

message_filters' synchronizers (and ``dsr_diff_ros.sync``) never report the messages they leave behind: a
frame whose camera info never came stays in the queue until ``queue_size`` newer unmatched frames push it
out. ``UnmatchedFrames`` follows the colour input: a frame is given up (and counted) when a newer colour
frame is matched, or when the synchronizer's queue would drop it (same insert/evict rule). The reason is
``camera_info`` when no camera info with a stamp within ``tolerance_ns`` arrived (an older one is never
used in its place), else ``unpaired`` (no depth image close enough). A frame given up and matched later
anyway is reported stale by ``matched``, so the caller can skip it: each frame is output or counted once.
"""
from __future__ import annotations

import collections


class UnmatchedFrames:
    def __init__(self, queue_size: int, tolerance_ns: int, info_keys=("rgb_info",), history: int = 100):
        self.queue_size, self.tol = int(queue_size), int(tolerance_ns)
        self.pending: set[int] = set()
        self.last_matched = None
        self.info_stamps = {k: collections.deque(maxlen=history) for k in info_keys}

    def info(self, key: str, t: int) -> None:
        self.info_stamps[key].append(int(t))

    def image(self, t: int) -> list[tuple[int, str]]:
        """A colour image with stamp ``t`` enters the synchronizer: [(stamp_ns, reason)] of the frames that
        the synchronizer's queue drops now."""
        self.pending.add(int(t))
        out = []
        while len(self.pending) > self.queue_size:
            old = min(self.pending)
            self.pending.discard(old)
            out.append((old, self.reason(old)))
        return out

    def matched(self, t: int) -> tuple[bool, list[tuple[int, str]]]:
        """The synchronizer emitted the frame stamped ``t``: (False if it is older than a frame matched
        before, i.e. already given up; [(stamp_ns, reason)] of the older frames given up now)."""
        t = int(t)
        self.pending.discard(t)
        if self.last_matched is not None and t < self.last_matched:
            return False, []
        self.last_matched = t
        old = sorted(s for s in self.pending if s < t)
        self.pending.difference_update(old)
        return True, [(s, self.reason(s)) for s in old]

    def reason(self, t: int) -> str:
        for stamps in self.info_stamps.values():
            if not any(abs(s - t) <= self.tol for s in stamps):
                return "camera_info"
        return "unpaired"

    def reset(self) -> None:
        self.pending.clear()
        self.last_matched = None
        for d in self.info_stamps.values():
            d.clear()

"""A user's recording as adaptation data: (colour, low-resolution depth) pairs, nothing else (no ground truth).

Sources, with the topic detection and options of ``dsr-diff-replay`` (``replay.driver.ReplayOptions``):
  * rosbag2 (sqlite3 / mcap) or ROS 1 ``.bag``: read with ``replay.recover.open_reader``, topics picked by
    ``replay.topics.detect_topics``, RGB and depth paired by ``sync.ApproximateTimeSynchronizer`` (the node's
    pairing), decoded by ``replay.codec``; ``--simulate`` synthesises the LR stream as the replay does.
  * an RGB-D folder (``NNN_color.png`` + ``NNN_depth.png`` + camera.yaml, or TUM): the depth PNGs may be
    smaller than the colour (a real low-resolution sensor) or the same size (with ``simulate``).
A ground-truth topic in the bag is never read. Camera intrinsics are not needed (the model works on pixels).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ..replay.driver import ReplayOptions


class RecordingError(ValueError):
    """A recording that cannot be used for adaptation (no pairs, mixed sizes, ...), with the reason."""


@dataclass
class Recording:
    """rgb: list of (H, W, 3) uint8; depth: list of (h, w) float32 metres (0 = invalid), all of one size each.

    source: what was read (path, kind, topics); stamps: header stamps in ns (0 for folders without a clock)."""

    rgb: list
    depth: list
    stamps: list
    source: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rgb)

    @property
    def rgb_hw(self) -> tuple[int, int]:
        return tuple(self.rgb[0].shape[:2])

    @property
    def lr_hw(self) -> tuple[int, int]:
        return tuple(self.depth[0].shape)


def _keep(n_total: int, max_frames: Optional[int]) -> int:
    """Stride that keeps at most ``max_frames`` of ``n_total`` frames, spread over the whole recording."""
    if not max_frames or n_total <= max_frames:
        return 1
    return int(math.ceil(n_total / max_frames))


def _clean(depth: np.ndarray) -> np.ndarray:
    d = np.nan_to_num(depth.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    d[d < 0] = 0
    return d


def _finish(rec: Recording, max_frames: Optional[int]) -> Recording:
    if not rec.rgb:
        raise RecordingError(f"{rec.source.get('path')}: no RGB/depth pair could be read "
                             f"({rec.source.get('skipped', 'check the topics with dsr-diff-replay --list-topics')})")
    if max_frames and len(rec) > max_frames:
        idx = np.linspace(0, len(rec) - 1, max_frames).round().astype(int)
        rec.rgb, rec.depth, rec.stamps = ([x[i] for i in idx] for x in (rec.rgb, rec.depth, rec.stamps))
    sizes = {(r.shape[:2], d.shape) for r, d in zip(rec.rgb, rec.depth)}
    if len(sizes) > 1:
        raise RecordingError(f"{rec.source.get('path')}: frames of several sizes {sorted(sizes)}; adapt one "
                             "camera mode at a time")
    (H, W), (h, w) = sizes.pop()
    if h > H or w > W:
        raise RecordingError(f"depth {w}x{h} is larger than the colour {W}x{H}: nothing to super-resolve")
    rec.source["frames"] = len(rec)
    return rec


def _add(rec: Recording, sim, rgb: np.ndarray, depth: np.ndarray, stamp: int) -> None:
    """Append one pair to ``rec``; with ``sim`` (a ``SimulatedSensor``) the LR depth is synthesised first."""
    if sim is not None:
        depth, _ = sim(depth)
    rec.rgb.append(rgb)
    rec.depth.append(depth)
    rec.stamps.append(stamp)


def read_bag(path: str | Path, o: ReplayOptions, max_frames: Optional[int] = None) -> Recording:
    """Pairs of a bag (see the module doc). ``max_frames``: keep at most that many, spread evenly."""
    from .. import convert
    from ..replay.codec import decode_depth, decode_rgb, header_ns
    from ..replay.recover import open_reader
    from ..replay.sensor import SimulatedSensor
    from ..replay.topics import detect_topics
    from ..sync import ApproximateTimeSynchronizer, SimpleFilter

    sim = SimulatedSensor(o.simulate) if o.simulate else None
    with open_reader(path, o.recover) as reader:
        types = {t: i.msgtype for t, i in reader.topics.items()}
        sel = detect_topics(types, o.rgb, o.depth, auto_gt=False)
        n_est = min(reader.topics[sel.rgb].count, reader.topics[sel.depth].count)
        stride = _keep(n_est, (max_frames or 0) * 2 or None)  # read about 2x what is kept, then spread
        filters = [SimpleFilter(), SimpleFilter()]
        sync = ApproximateTimeSynchronizer(filters, o.queue_size, o.slop)
        pairs: list = []
        sync.registerCallback(lambda a, b: pairs.append((a, b)))
        rec = Recording([], [], [], {"path": str(path), "kind": "bag", "rgb_topic": sel.rgb,
                                     "depth_topic": sel.depth, "simulate": o.simulate.to_dict() if sim else None})
        skipped, k = [], 0
        for topic, _, raw in reader.messages([sel.rgb, sel.depth]):
            msg = reader.deserialize(topic, raw)
            filters[0 if topic == sel.rgb else 1].signalMessage(_Stamped(msg, types[topic]))
            while pairs:
                a, b = pairs.pop(0)
                k += 1
                if (k - 1) % stride:
                    continue
                try:
                    rgb, depth = decode_rgb(a.msg, a.msgtype), _clean(decode_depth(b.msg, b.msgtype))
                except convert.ConversionError as e:
                    skipped.append(str(e))
                    continue
                _add(rec, sim, rgb, depth, header_ns(a.msg))
    rec.source["pairs"] = k
    if skipped:
        rec.source["skipped"] = skipped[:5]
    return _finish(rec, max_frames)


class _Stamped:
    """A message with the ``header`` attribute the synchronizer reads."""

    __slots__ = ("header", "msg", "msgtype")

    def __init__(self, msg, msgtype: str):
        self.header, self.msg, self.msgtype = msg.header, msg, msgtype


def read_folder(path: str | Path, o: ReplayOptions, max_frames: Optional[int] = None) -> Recording:
    """Pairs of an RGB-D folder (``data.folder.RGBDFolder`` layouts); depth may be smaller than the colour."""
    from ..data.folder import DatasetError, RGBDFolder, read_depth, read_rgb
    from ..replay.sensor import SimulatedSensor

    ds = RGBDFolder(path)
    sim = SimulatedSensor(o.simulate) if o.simulate else None
    stride = _keep(len(ds), max_frames)
    rec = Recording([], [], [], {"path": str(path), "kind": f"folder ({ds.layout})",
                                 "simulate": o.simulate.to_dict() if sim else None})
    skipped = []
    for name, cp, dp, stamp in ds.items[::stride]:
        try:
            rgb, depth = read_rgb(cp), _clean(read_depth(dp, ds.depth_scale))
        except DatasetError as e:
            skipped.append(str(e))
            continue
        _add(rec, sim, rgb, depth, stamp)
    rec.source["pairs"] = len(ds)
    if skipped:
        rec.source["skipped"] = skipped[:5]
    return _finish(rec, max_frames)


def is_folder_recording(path: str | Path) -> bool:
    p = Path(path)
    return p.is_dir() and not (p / "metadata.yaml").exists() and not any(
        x.suffix in (".mcap", ".db3") for x in p.iterdir())


def read_recording(path: str | Path, options: Optional[ReplayOptions] = None,
                   max_frames: Optional[int] = None) -> Recording:
    """A bag or an RGB-D folder (see the module doc)."""
    o = options or ReplayOptions()
    if not Path(path).exists():
        raise RecordingError(f"{path}: no such recording (a rosbag2 folder, a ROS 1 .bag or an RGB-D folder)")
    if is_folder_recording(path):
        return read_folder(path, o, max_frames)
    return read_bag(path, o, max_frames)

"""Build a rosbag2 from a folder of RGB-D frames (``NNN_color.png``/``NNN_depth.png`` + camera.yaml, or TUM
rgb.txt/depth.txt), realsense-ros topic names by default, optionally with a simulated low-cost depth sensor
(LR depth topic + the original depth as ground truth)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ..data.folder import RGBDFolder
from .bagio import BagWriter
from .codec import Encoder
from .sensor import SimSensorConfig, SimulatedSensor

FOLDER_EPOCH_NS = 1_700_000_000 * 1_000_000_000  # folder layouts have no clock: start the stamps here


@dataclass
class MakeBagConfig:
    """Topic names (realsense-ros defaults) and options of ``make_bag``.

    Without ``sim``: the folder depth goes to ``depth_topic`` (registered to colour, like
    ``aligned_depth_to_color``). With ``sim``: the LR depth goes to ``lr_depth_topic`` and the folder depth to
    ``gt_topic``. Camera info topics are the image topic's sibling ``camera_info``.
    """

    storage: str = "mcap"                # rosbag2 default since Iron; faster to write than sqlite3
    rgb_topic: str = "/camera/camera/color/image_raw"
    depth_topic: str = "/camera/camera/aligned_depth_to_color/image_raw"
    lr_depth_topic: str = "/camera/camera/depth/image_rect_raw"
    gt_topic: str = "/ground_truth/depth/image_raw"
    depth_encoding: str = "16UC1"
    compressed_rgb: bool = False
    frame_id: str = "camera_color_optical_frame"
    sim: Optional[SimSensorConfig] = None
    max_frames: Optional[int] = None
    repeat: int = 1
    start_ns: Optional[int] = None
    overwrite: bool = False
    extra: dict = field(default_factory=dict)


def info_topic(image_topic: str) -> str:
    """``/a/b/image_raw`` -> ``/a/b/camera_info``."""
    return image_topic.rsplit("/", 1)[0] + "/camera_info"


def make_bag(folder: str | Path, out: str | Path, config: Optional[MakeBagConfig] = None,
             progress: Optional[Callable[[int, int], None]] = None) -> dict:
    """Write the bag; returns a summary {path, frames, topics: {name: count}, skipped: [(name, reason)], ...}.

    Frames that fail to load are skipped and reported (``RGBDFolder(skip_bad=True)``).
    """
    c = config or MakeBagConfig()
    ds = RGBDFolder(folder, skip_bad=True)
    n = len(ds) if c.max_frames is None else min(len(ds), c.max_frames)
    offset = c.start_ns if c.start_ns is not None else (FOLDER_EPOCH_NS if ds.layout == "folder" else 0)
    sim = SimulatedSensor(c.sim) if c.sim else None
    if ds.layout == "folder" and len(ds) > 1:
        period = ds.items[1][3] - ds.items[0][3]
    else:
        period = 33_333_333
    span = (ds.items[n - 1][3] - ds.items[0][3] + period) if n else 0
    frames = 0
    with BagWriter(out, c.storage, overwrite=c.overwrite) as w:
        enc = Encoder(w.typestore)
        for rep in range(max(1, c.repeat)):
            for i in range(n):
                try:
                    s = ds.load(i)
                except Exception as e:  # DatasetError: report and go on
                    if rep == 0:
                        ds.errors.append((ds.items[i][0], str(e)))
                    continue
                t = offset + s.stamp_ns + rep * span
                hdr = enc.header(t, c.frame_id)
                w.write(info_topic(c.rgb_topic), enc.info(s.intrinsics, hdr), t)
                rgb_topic = c.rgb_topic + ("/compressed" if c.compressed_rgb else "")
                w.write(rgb_topic, enc.rgb(s.rgb, hdr, c.compressed_rgb), t)
                if sim is None:
                    w.write(info_topic(c.depth_topic), enc.info(s.intrinsics, hdr), t)
                    w.write(c.depth_topic, enc.depth(s.depth, hdr, c.depth_encoding), t)
                else:
                    lr, lr_info = sim(s.depth, s.intrinsics)
                    w.write(info_topic(c.lr_depth_topic), enc.info(lr_info, hdr), t)
                    w.write(c.lr_depth_topic, enc.depth(lr, hdr, c.depth_encoding), t)
                    w.write(info_topic(c.gt_topic), enc.info(s.intrinsics, hdr), t)
                    w.write(c.gt_topic, enc.depth(s.depth, hdr, c.depth_encoding), t)
                frames += 1
                if progress:
                    progress(frames, n * max(1, c.repeat))
        counts = dict(w.counts)
    return {"path": str(out), "storage": c.storage, "frames": frames, "layout": ds.layout, "topics": counts,
            "skipped": ds.errors, "sim": c.sim.to_dict() if c.sim else None}

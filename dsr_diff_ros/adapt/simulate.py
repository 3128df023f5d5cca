"""Recordings of a sensor with a *known* profile, made from RGB-D data with high-resolution ground truth, to
measure adaptation (benchmark, tests): the LR depth comes from ``data.degradations.sensor_downsample``, the
colour/depth misregistration from ``data.colour.degrade_colour`` (the colour moves by ``offset_px``), and the
frames are written to a real rosbag2 (colour, LR depth, camera infos, and the ground truth on a topic the
adaptation never reads).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import cv2
import numpy as np

from ..data.colour import ColourModel, degrade_colour
from ..data.degradations import SensorModel, sensor_downsample
from ..frame import Intrinsics

RGB_TOPIC = "/camera/camera/color/image_raw"
DEPTH_TOPIC = "/camera/camera/depth/image_rect_raw"
GT_TOPIC = "/ground_truth/depth/image_raw"


@dataclass
class SimSensor:
    """A depth sensor + colour rig. lr_size: (width, height) of the depth (any, non-integer ratios included);
    noise: "linear" (ToF, sigma = noise_std * z) or "quadratic" (sigma = noise_std * z^2); hole_rate: blob holes;
    edge_holes / flying: on depth edges; offset_px: (dx, dy) colour misregistration in colour pixels."""

    lr_size: tuple = (120, 106)
    noise: str = "linear"
    noise_std: float = 0.04
    hole_rate: float = 0.04
    edge_holes: float = 0.3
    flying: float = 0.3
    quant_mm: float = 1.0
    offset_px: tuple = (5.0, 0.0)
    seed: int = 0

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    def sensor_model(self) -> SensorModel:
        return SensorModel(noise=self.noise, noise_std=self.noise_std, quant_mm=self.quant_mm, hole_rate=self.hole_rate,
                           edge_holes=self.edge_holes, flying=self.flying, downsample="area", max_range=1e3)


def simulate_frame(rgb: np.ndarray, depth_hr: np.ndarray, s: SimSensor, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(H,W,3) uint8 + (H,W) metres -> (misregistered colour (H,W,3) uint8, LR depth (h,w) metres)."""
    w, h = s.lr_size
    lr = sensor_downsample(depth_hr, depth_hr.shape[1] / w, s.sensor_model(), rng, rgb)
    if lr.shape != (h, w):
        lr = cv2.resize(lr, (w, h), interpolation=cv2.INTER_NEAREST)
    col = degrade_colour(rgb, ColourModel(shift_px=tuple(float(v) for v in s.offset_px)), rng)
    return col, lr.astype(np.float32)


def simulate(rgbs: list, depths: list, s: SimSensor) -> tuple[list, list]:
    """Every frame through ``simulate_frame`` with one reproducible stream of randomness."""
    rng = np.random.default_rng(s.seed)
    out = [simulate_frame(r, d, s, rng) for r, d in zip(rgbs, depths)]
    return [o[0] for o in out], [o[1] for o in out]


def _intrinsics(w: int, h: int) -> Intrinsics:
    f = 0.9 * w
    return Intrinsics(f, f, (w - 1) / 2, (h - 1) / 2, w, h)


def write_bag(out: str | Path, rgbs: list, lrs: list, gts: Optional[list] = None, storage: str = "mcap",
              period_ns: int = 33_333_333, start_ns: int = 1_700_000_000 * 10 ** 9, overwrite: bool = True) -> dict:
    """A rosbag2 with colour (rgb8), LR depth (16UC1 mm), their camera infos, and ``gts`` (HR metres) on
    ``GT_TOPIC`` when given. Returns {path, frames, topics}."""
    from ..replay.bagio import BagWriter
    from ..replay.codec import Encoder

    with BagWriter(out, storage, overwrite=overwrite) as wr:
        enc = Encoder(wr.typestore)
        for i, (rgb, lr) in enumerate(zip(rgbs, lrs)):
            t = start_ns + i * period_ns
            hdr = enc.header(t, "camera_color_optical_frame")
            H, W = rgb.shape[:2]
            wr.write(RGB_TOPIC.rsplit("/", 1)[0] + "/camera_info", enc.info(_intrinsics(W, H), hdr), t)
            wr.write(RGB_TOPIC, enc.rgb(rgb, hdr), t)
            wr.write(DEPTH_TOPIC.rsplit("/", 1)[0] + "/camera_info", enc.info(_intrinsics(lr.shape[1], lr.shape[0]), hdr), t)
            wr.write(DEPTH_TOPIC, enc.depth(lr, hdr, "16UC1"), t)
            if gts is not None:
                wr.write(GT_TOPIC.rsplit("/", 1)[0] + "/camera_info", enc.info(_intrinsics(W, H), hdr), t)
                wr.write(GT_TOPIC, enc.depth(gts[i], hdr, "16UC1"), t)
        counts = dict(wr.counts)
    return {"path": str(out), "frames": len(rgbs), "topics": counts}

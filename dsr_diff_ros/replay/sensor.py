"""Simulated low-cost depth sensor: good (registered, full-resolution) depth -> the LR depth stream a cheap
sensor would give, via ``data.degradations.degrade``; the original is kept as ground truth."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import cv2
import numpy as np

from ..cli.argtypes import MAX_SCALE, float_range, non_negative_float, positive_float, probability
from ..data.degradations import SensorModel, degrade
from ..frame import Intrinsics


def parse_size(text: Optional[str]) -> Optional[tuple[int, int]]:
    """"160x120" -> (160, 120) (width, height); None/"" -> None."""
    if not text:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size must look like 160x120 (width x height), got {text!r}") from None
    if w <= 0 or h <= 0:
        raise ValueError(f"size must be positive, got {text!r}")
    return w, h


@dataclass
class SimSensorConfig:
    """How to synthesise the LR stream.

    scale:  HR/LR factor (used when ``size`` is None); size: (width, height) of the LR depth (wins over scale).
    mode:   "sensor" (noise, holes, flying pixels from ``sensor``) or "bicubic" (the papers' clean protocol).
    seed:   RNG seed (the stream is reproducible frame by frame).
    """

    scale: float = 4.0
    size: Optional[tuple[int, int]] = None
    mode: str = "sensor"
    sensor: SensorModel = field(default_factory=SensorModel)
    seed: int = 0

    def to_dict(self) -> dict:
        return {"scale": self.scale, "size": list(self.size) if self.size else None, "mode": self.mode,
                "sensor": self.sensor.to_dict(), "seed": self.seed}


class SimulatedSensor:
    """Call with an HR depth (metres, 0/NaN invalid) and its intrinsics; returns (LR depth, LR intrinsics)."""

    def __init__(self, config: Optional[SimSensorConfig] = None):
        self.config = config or SimSensorConfig()
        if self.config.mode not in ("sensor", "bicubic"):
            raise ValueError(f"sensor mode must be 'sensor' or 'bicubic', got {self.config.mode!r}")
        self.rng = np.random.default_rng(self.config.seed)

    def lr_shape(self, hr_hw: tuple[int, int]) -> tuple[int, int]:
        """(h, w) of the LR depth for an HR (h, w)."""
        if self.config.size:
            return self.config.size[1], self.config.size[0]
        s = float(self.config.scale)
        if s < 1:
            raise ValueError(f"scale must be >= 1, got {s}")
        return max(1, int(round(hr_hw[0] / s))), max(1, int(round(hr_hw[1] / s)))

    def __call__(self, depth_hr: np.ndarray, info_hr: Optional[Intrinsics] = None
                 ) -> tuple[np.ndarray, Optional[Intrinsics]]:
        H, W = depth_hr.shape
        h, w = self.lr_shape((H, W))
        if h > H or w > W:
            raise ValueError(f"LR size {w}x{h} is larger than the depth {W}x{H}")
        d = np.nan_to_num(depth_hr.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        lr = degrade(d, W / w, mode=self.config.mode, sensor=self.config.sensor, rng=self.rng)
        if lr.shape != (h, w):  # non-integer factor rounding: snap to the requested grid
            lr = cv2.resize(lr, (w, h), interpolation=cv2.INTER_NEAREST)
        info = info_hr.scaled(w, h) if info_hr is not None else None
        return lr.astype(np.float32), info


def add_sensor_args(p) -> None:
    """argparse options of the simulated low-cost sensor (shared by dsr-diff-replay and dsr-diff-make-bag)."""
    g = p.add_argument_group("simulated low-cost depth sensor")
    g.add_argument("--scale", type=float_range(1.0, MAX_SCALE), default=4.0,
                   help=f"HR/LR factor of the simulated depth, 1..{MAX_SCALE} (default 4)")
    g.add_argument("--lr-size", default=None, help="LR depth size WxH, e.g. 160x120 (overrides --scale)")
    g.add_argument("--sim-mode", choices=("sensor", "bicubic"), default="sensor",
                   help="sensor: noise + holes + flying pixels; bicubic: the papers' clean protocol")
    g.add_argument("--noise", choices=("quadratic", "linear"), default=None,
                   help="noise law: quadratic (structured light) or linear (ToF)")
    g.add_argument("--noise-std", type=non_negative_float, default=None, help="noise coefficient, >= 0 (default 0.0015)")
    g.add_argument("--hole-rate", type=probability, default=None, help="fraction of LR pixels dropped in blobs, 0..1 "
                   "(0.02)")
    g.add_argument("--edge-holes", type=probability, default=None, help="drop probability on depth edges, 0..1 (0.3)")
    g.add_argument("--flying", type=probability, default=None, help="flying-pixel probability on edges, 0..1 (0.2)")
    g.add_argument("--max-range", type=positive_float, default=None, help="metres, > 0; farther reads as 0 (10)")
    g.add_argument("--seed", type=int, default=0, help="RNG seed of the simulation")


def sensor_config_from_args(a) -> SimSensorConfig:
    """SimSensorConfig from the options of ``add_sensor_args``."""
    sm = SensorModel()
    for k in ("noise", "noise_std", "hole_rate", "edge_holes", "flying", "max_range"):
        if getattr(a, k) is not None:
            setattr(sm, k, getattr(a, k))
    return SimSensorConfig(scale=a.scale, size=parse_size(a.lr_size), mode=a.sim_mode, sensor=sm, seed=a.seed)

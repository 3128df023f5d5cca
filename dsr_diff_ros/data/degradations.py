"""Degradations that turn a good HR depth map into the LR depth a cheap sensor (or a paper protocol) gives.

All functions take/return float32 metres with 0 = invalid; shapes (H, W) -> (h, w).
"""
from __future__ import annotations

from dataclasses import dataclass, asdict

import cv2
import numpy as np


def lr_size(hr_hw: tuple[int, int], scale: float) -> tuple[int, int]:
    """(h, w) of the LR grid for an HR size and a (possibly non-integer) factor."""
    h, w = hr_hw
    return max(1, int(round(h / scale))), max(1, int(round(w / scale)))


def bicubic_downsample(depth_hr: np.ndarray, scale: float) -> np.ndarray:
    """The papers' protocol: bicubic resize of the HR depth by ``scale`` (PIL bicubic, antialiased).

    Pixels whose bicubic support touches an invalid HR pixel become invalid (0).
    """
    from PIL import Image

    h, w = lr_size(depth_hr.shape, scale)
    d = depth_hr.astype(np.float32)
    valid = (d > 0) & np.isfinite(d)
    img = Image.fromarray(np.where(valid, d, 0).astype(np.float32), mode="F")
    lr = np.asarray(img.resize((w, h), Image.BICUBIC), np.float32).copy()
    if not valid.all():
        vm = np.asarray(Image.fromarray(valid.astype(np.float32), mode="F").resize((w, h), Image.BILINEAR))
        lr[vm < 0.999] = 0
    lr[lr < 0] = 0
    return lr


@dataclass
class SensorModel:
    """A configurable low-cost depth sensor (defaults: Kinect-class structured light).

    noise:        "quadratic" (structured light, sigma = noise_std * z^2) or "linear" (ToF, sigma = noise_std * z)
    noise_std:    coefficient of the noise law (metres^-1 for quadratic, unitless for linear)
    quant_mm:     depth quantisation step in millimetres (0: none)
    hole_rate:    fraction of LR pixels dropped at random (in blobs)
    edge_holes:   probability of dropping LR pixels on depth discontinuities
    flying:       probability that an edge pixel takes a value between foreground and background
    downsample:   "area" (integrating sensor), "nearest" (sub-sampling sensor) or "bicubic"
    max_range:    metres; beyond it the sensor reports 0
    """

    noise: str = "quadratic"
    noise_std: float = 0.0015
    quant_mm: float = 1.0
    hole_rate: float = 0.02
    edge_holes: float = 0.3
    flying: float = 0.2
    downsample: str = "area"
    max_range: float = 10.0

    def to_dict(self) -> dict:
        return asdict(self)


def _masked_area_resize(d: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    valid = (d > 0).astype(np.float32)
    num = cv2.resize(d * valid, size_hw[::-1], interpolation=cv2.INTER_AREA)
    den = cv2.resize(valid, size_hw[::-1], interpolation=cv2.INTER_AREA)
    out = np.where(den > 0.5, num / np.maximum(den, 1e-6), 0)
    return out.astype(np.float32)


def sensor_downsample(depth_hr: np.ndarray, scale: float, sensor: SensorModel | None = None,
                      rng: np.random.Generator | int | None = 0) -> np.ndarray:
    """Simulate a low-cost sensor seeing the scene of ``depth_hr`` at 1/scale resolution."""
    s = sensor or SensorModel()
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    d = np.nan_to_num(depth_hr.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    d[d < 0] = 0
    h, w = lr_size(d.shape, scale)
    if s.downsample == "nearest":
        ys = np.clip(((np.arange(h) + 0.5) * d.shape[0] / h).astype(int), 0, d.shape[0] - 1)
        xs = np.clip(((np.arange(w) + 0.5) * d.shape[1] / w).astype(int), 0, d.shape[1] - 1)
        lr = d[ys][:, xs].copy()
    elif s.downsample == "bicubic":
        lr = bicubic_downsample(d, scale)
    else:
        lr = _masked_area_resize(d, (h, w))
    valid = lr > 0
    # depth discontinuities on the LR grid
    dil = cv2.dilate(lr, np.ones((3, 3), np.uint8))
    ero = cv2.erode(np.where(valid, lr, 1e6).astype(np.float32), np.ones((3, 3), np.uint8))
    edge = valid & ((dil - ero) > 0.05 * np.maximum(lr, 0.1))
    if s.flying > 0:
        fly = edge & (rng.random(lr.shape) < s.flying)
        t = rng.random(lr.shape).astype(np.float32)
        lr = np.where(fly, t * np.minimum(ero, dil) + (1 - t) * dil, lr)
    if s.noise_std > 0:
        sigma = s.noise_std * (lr ** 2 if s.noise == "quadratic" else lr)
        lr = lr + sigma * rng.standard_normal(lr.shape).astype(np.float32)
    if s.quant_mm > 0:
        q = s.quant_mm / 1000.0
        lr = np.round(lr / q) * q
    drop = np.zeros(lr.shape, bool)
    if s.edge_holes > 0:
        drop |= edge & (rng.random(lr.shape) < s.edge_holes)
    if s.hole_rate > 0:
        seeds = (rng.random(lr.shape) < s.hole_rate / 6).astype(np.uint8)
        drop |= cv2.dilate(seeds, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))) > 0
    lr[drop | ~valid | (lr > s.max_range)] = 0
    lr[lr < 0] = 0
    return lr.astype(np.float32)


def degrade(depth_hr: np.ndarray, scale: float, mode: str = "sensor", sensor: SensorModel | None = None,
            rng: np.random.Generator | int | None = 0) -> np.ndarray:
    """``mode``: "bicubic" (paper protocol) or "sensor" (low-cost sensor simulation)."""
    if mode == "bicubic":
        return bicubic_downsample(depth_hr, scale)
    if mode == "sensor":
        return sensor_downsample(depth_hr, scale, sensor, rng)
    raise ValueError(f"unknown degradation mode {mode!r} (expected 'bicubic' or 'sensor')")

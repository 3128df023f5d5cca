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

    noise:        "quadratic" (structured light, sigma = noise_std * z^2), "linear" (ToF, sigma = noise_std * z)
                  or "constant" (sigma = noise_std metres, Park et al.'s noisy benchmark on a depth-like value)
    noise_std:    coefficient of the noise law (metres^-1 for quadratic, unitless for linear, metres for constant)
    quant_mm:     depth quantisation step in millimetres (0: none)
    disparity_step: structured-light disparity quantisation: 1/z rounded to multiples of this (1/m; Kinect v1
                  ~0.003, i.e. a depth step of 0.003 z^2: 3 mm at 1 m, 5 cm at 4 m; 0: none)
    hole_rate:    fraction of LR pixels dropped at random (in blobs)
    edge_holes:   probability of dropping LR pixels on depth discontinuities
    shadow:       probability of dropping the background band beside a nearer surface on one side (structured
                  light's projector shadow), shadow_px LR pixels wide, on the side ``shadow_side`` (+1 right, -1 left)
    dark_holes:   probability of dropping LR pixels whose colour is very dark (luma < dark_level) or saturated
                  (absorbing and specular surfaces); needs the colour image
    flying:       probability that an edge pixel takes a value between foreground and background
    downsample:   "area" (integrating sensor), "nearest" (sub-sampling sensor) or "bicubic"
    max_range:    metres; beyond it the sensor reports 0
    """

    noise: str = "quadratic"
    noise_std: float = 0.0015
    quant_mm: float = 1.0
    disparity_step: float = 0.0
    hole_rate: float = 0.02
    edge_holes: float = 0.3
    shadow: float = 0.0
    shadow_px: int = 1
    shadow_side: int = 1
    dark_holes: float = 0.0
    dark_level: float = 0.06
    flying: float = 0.2
    downsample: str = "area"
    max_range: float = 10.0

    def to_dict(self) -> dict:
        return asdict(self)


#: other implementations of "downsample the ground truth" than the papers' antialiased bicubic, as evaluation
#: code uses them: OpenCV / PyTorch bicubic and bilinear without antialiasing (aliased), nearest on the top-left
#: phase (``depth[::s, ::s]``, OpenCV's INTER_NEAREST: shifted (s-1)/2 HR px from the block centre), nearest at the
#: block centre, and the block mean (area)
KERNELS = ("cv2_cubic", "cv2_linear", "nearest", "nearest_centre", "area")


def kernel_downsample(depth_hr: np.ndarray, scale: float, kernel: str) -> np.ndarray:
    """``depth_hr`` (H, W) metres (0 / non-finite invalid) at 1/scale with one of ``KERNELS`` (or "bicubic": the
    papers' protocol, ``bicubic_downsample``); an LR pixel whose support touches an invalid HR pixel is 0."""
    if kernel == "bicubic":
        return bicubic_downsample(depth_hr, scale)
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be bicubic or one of {KERNELS}, got {kernel!r}")
    d = depth_hr.astype(np.float32)
    valid = (d > 0) & np.isfinite(d)
    d = np.where(valid, d, 0).astype(np.float32)
    (H, W), (h, w) = d.shape, lr_size(d.shape, scale)
    if kernel.startswith("nearest"):
        off = 0.5 if kernel == "nearest_centre" else 0.0
        ys = np.clip(((np.arange(h) + off) * H / h).astype(int), 0, H - 1)
        xs = np.clip(((np.arange(w) + off) * W / w).astype(int), 0, W - 1)
        return d[ys][:, xs].copy()
    if kernel == "area":
        return _masked_area_resize(d, (h, w)).astype(np.float32)
    interp = cv2.INTER_CUBIC if kernel == "cv2_cubic" else cv2.INTER_LINEAR
    lr = cv2.resize(d, (w, h), interpolation=interp)
    if not valid.all():
        vm = cv2.resize(valid.astype(np.float32), (w, h), interpolation=interp)
        lr[vm < 0.999] = 0
    lr[lr < 0] = 0
    return lr


def _masked_area_resize(d: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    valid = (d > 0).astype(np.float32)
    num = cv2.resize(d * valid, size_hw[::-1], interpolation=cv2.INTER_AREA)
    den = cv2.resize(valid, size_hw[::-1], interpolation=cv2.INTER_AREA)
    out = np.where(den > 0.5, num / np.maximum(den, 1e-6), 0)
    return out.astype(np.float32)


def fatten_foreground(depth: np.ndarray, px: int, jump: float = 0.03) -> np.ndarray:
    """The foreground fattening of window-matching sensors (structured light, stereo): near surfaces spread
    ``px`` pixels over the farther side of every discontinuity (a relative jump > ``jump``); smooth surfaces,
    slopes and invalid pixels (0) are left as they are. (H, W) float32 m -> (H, W) float32 m.

    ``bench/edge_offsets.py`` (offsets by the side the nearer surface is on; the method reads 0.5 px of
    fattening on exact data, Middlebury and RGB-D-D): the real Kinect v1 frames of ``rgbd/`` add only 0.1-0.5 px of
    fattening to that and are mostly *shifted*: depth 0.8-1.3 px below the colour and 0.1-0.8 px right of it. The
    Kinect-like tune set ranks holes experts as the bundled real frame does only with its foreground fattened
    (2 px; ``bench/kinect_like_tune.py``), but training with 1-3 px of fattening (sixteenth session) did not carry
    to the real frames and cost 1.5-2.8 % on sensors whose ground truth is exact.
    """
    if px <= 0:
        return depth
    big = np.where(depth > 0, depth, np.inf).astype(np.float32)
    valid = depth > 0
    # far-side pixels of a discontinuity: a 4-neighbour nearer by more than ``jump`` (a slope never steps that much)
    n1 = cv2.erode(big, cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)), borderType=cv2.BORDER_REPLICATE)
    seed = valid & (n1 < (1.0 - jump) * depth)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    band = cv2.dilate(seed.astype(np.uint8), k) > 0
    near = cv2.erode(big, k, borderType=cv2.BORDER_REPLICATE)
    edge = band & valid & np.isfinite(near) & (near < (1.0 - jump) * depth)
    return np.where(edge, near, depth).astype(np.float32)


def kinect_holes(depth: np.ndarray, rgb: np.ndarray, rng: np.random.Generator,
                 n_blobs: tuple[int, int] = (3, 11)) -> np.ndarray:
    """Where a Kinect-class sensor records nothing, at full resolution: (H, W) metres + (H, W, 3) uint8 -> (H, W)
    bool. Projector shadows (a nearer surface by > 5 % within 4-10 px on one side, the same side a frame), dark or
    saturated colour (luma < 0.06 or > 0.985, dilated 5 px, each blob dropped with probability 0.8) and
    ``n_blobs`` (low, high exclusive; 3-10 for a 640x480 frame) elliptical blobs of 10-60 px radius (specular and
    glass surfaces): together 15-30 % of a frame, as on the real Kinect frames of ``rgbd/``."""
    h, w = depth.shape
    px, side = int(rng.integers(4, 11)), int(rng.choice([-1, 1]))
    drop = _shadow_mask(depth, depth > 0, px, side)
    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) / 255.0
    dark = cv2.dilate(((luma < 0.06) | (luma > 0.985)).astype(np.uint8), np.ones((5, 5), np.uint8))
    n, lab = cv2.connectedComponents(dark)
    keep = rng.random(n) < 0.8
    keep[0] = False
    drop |= keep[lab]
    blobs = np.zeros(depth.shape, np.uint8)
    for _ in range(int(rng.integers(*n_blobs))):
        c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        ax = (int(rng.integers(10, 61)), int(rng.integers(10, 61)))
        cv2.ellipse(blobs, c, ax, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return drop | (blobs > 0)


def _shadow_mask(lr: np.ndarray, valid: np.ndarray, px: int, side: int) -> np.ndarray:
    """LR pixels with a nearer surface (by > 5 %) within ``px`` pixels on ``side`` (+1: to the right)."""
    near = np.full(lr.shape, np.inf, np.float32)
    big = np.where(valid, lr, np.inf).astype(np.float32)
    for k in range(1, px + 1):
        sh = np.full(lr.shape, np.inf, np.float32)
        if side > 0:
            sh[:, :-k] = big[:, k:]
        else:
            sh[:, k:] = big[:, :-k]
        near = np.minimum(near, sh)
    return valid & (near < 0.95 * lr)


def _dark_mask(rgb: np.ndarray, size_hw: tuple[int, int], level: float) -> np.ndarray:
    luma = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), size_hw[::-1], interpolation=cv2.INTER_AREA) / 255.0
    return (luma < level) | (luma > 0.985)


def sensor_downsample(depth_hr: np.ndarray, scale: float, sensor: SensorModel | None = None,
                      rng: np.random.Generator | int | None = 0, rgb: np.ndarray | None = None) -> np.ndarray:
    """Simulate a low-cost sensor seeing the scene of ``depth_hr`` at 1/scale resolution (``rgb``: the (H,W,3)
    uint8 colour image, used only for the dark/specular holes)."""
    s = sensor or SensorModel()
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    d = np.nan_to_num(depth_hr.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    d[d < 0] = 0
    lr = kernel_downsample(d, scale, {"nearest": "nearest_centre", "bicubic": "bicubic"}.get(s.downsample, "area"))
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
        law = {"quadratic": lr ** 2, "linear": lr, "constant": np.ones_like(lr)}
        if s.noise not in law:
            raise ValueError(f"unknown noise law {s.noise!r} (expected quadratic, linear or constant)")
        lr = lr + s.noise_std * law[s.noise] * rng.standard_normal(lr.shape).astype(np.float32)
    if s.disparity_step > 0:
        disp = np.round(1.0 / np.maximum(lr, 1e-3) / s.disparity_step) * s.disparity_step
        lr = np.where(valid, 1.0 / np.maximum(disp, s.disparity_step), 0).astype(np.float32)
    if s.quant_mm > 0:
        q = s.quant_mm / 1000.0
        lr = np.round(lr / q) * q
    drop = np.zeros(lr.shape, bool)
    if s.edge_holes > 0:
        drop |= edge & (rng.random(lr.shape) < s.edge_holes)
    if s.shadow > 0:
        drop |= _shadow_mask(lr, valid, max(1, s.shadow_px), s.shadow_side) & (rng.random(lr.shape) < s.shadow)
    if s.dark_holes > 0 and rgb is not None:
        drop |= _dark_mask(rgb, lr.shape, s.dark_level) & (rng.random(lr.shape) < s.dark_holes)
    if s.hole_rate > 0:
        seeds = (rng.random(lr.shape) < s.hole_rate / 6).astype(np.uint8)
        drop |= cv2.dilate(seeds, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))) > 0
    lr[drop | ~valid | (lr > s.max_range)] = 0
    lr[lr < 0] = 0
    return lr.astype(np.float32)


def noisy_downsample(depth_hr: np.ndarray, scale: float, rng: np.random.Generator | int | None = 0,
                     rel_sigma: float = 0.03) -> np.ndarray:
    """Heavy-noise protocol in the spirit of Park et al.'s noisy benchmark (noise std 651/disparity: relative noise
    growing with distance): bicubic down-sampling, then Gaussian noise of sigma = rel_sigma * z * (z / median z),
    i.e. 3 % of depth at the median depth, 6 % at twice it."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    lr = bicubic_downsample(depth_hr, scale)
    v = lr > 0
    if not v.any():
        return lr
    med = float(np.median(lr[v]))
    noisy = lr + rel_sigma * lr * (lr / med) * rng.standard_normal(lr.shape).astype(np.float32)
    return np.where(v, np.maximum(noisy, 1e-3), 0).astype(np.float32)


def degrade(depth_hr: np.ndarray, scale: float, mode: str = "sensor", sensor: SensorModel | None = None,
            rng: np.random.Generator | int | None = 0, rgb: np.ndarray | None = None) -> np.ndarray:
    """``mode``: "bicubic" (paper protocol), "noisy" (bicubic + heavy noise, ``noisy_downsample``), "sensor"
    (low-cost sensor simulation) or one of ``KERNELS`` (the clean protocol with another kernel)."""
    if mode == "bicubic":
        return bicubic_downsample(depth_hr, scale)
    if mode in KERNELS:
        return kernel_downsample(depth_hr, scale, mode)
    if mode == "noisy":
        return noisy_downsample(depth_hr, scale, rng)
    if mode == "sensor":
        return sensor_downsample(depth_hr, scale, sensor, rng, rgb)
    raise ValueError(f"unknown degradation mode {mode!r} (expected 'bicubic', 'noisy', 'sensor' or one of {KERNELS})")

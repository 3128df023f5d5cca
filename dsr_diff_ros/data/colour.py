"""Colour-side degradations of training pairs: what a cheap RGB camera and an imperfect rig do to the guide.

All functions take/return (H, W, 3) uint8 RGB. Ranges used in training are in ``random_colour``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np


@dataclass
class ColourModel:
    """gain:      per-channel multiplicative gain (exposure x white balance), e.g. (1.1, 1.0, 0.9)
    gamma:        tone curve exponent applied to [0,1] intensities
    noise_std:    Gaussian sensor noise, in 8-bit levels (plus the same amount of shot noise at full scale)
    blur_px:      motion-blur length in pixels (0: none), direction blur_angle degrees
    jpeg:         JPEG quality 1-100 (0: no compression)
    shift_px:     colour/depth misregistration (dx, dy) in pixels (the colour image moves; depth stays)
    """

    gain: tuple = (1.0, 1.0, 1.0)
    gamma: float = 1.0
    noise_std: float = 0.0
    blur_px: float = 0.0
    blur_angle: float = 0.0
    jpeg: int = 0
    shift_px: tuple = (0.0, 0.0)

    def to_dict(self) -> dict:
        return asdict(self)


def _motion_kernel(length: float, angle_deg: float) -> np.ndarray:
    n = int(np.ceil(length)) | 1
    k = np.zeros((n, n), np.float32)
    c = n // 2
    a = np.deg2rad(angle_deg)
    for t in np.linspace(-length / 2, length / 2, 4 * n):
        k[int(round(c + t * np.sin(a))), int(round(c + t * np.cos(a)))] = 1
    return k / k.sum()


def degrade_colour(rgb: np.ndarray, m: ColourModel, rng: np.random.Generator) -> np.ndarray:
    """Apply misregistration, motion blur, exposure/white balance/gamma, noise, JPEG (in that order)."""
    x = rgb
    dx, dy = m.shift_px
    if dx or dy:
        x = cv2.warpAffine(x, np.float32([[1, 0, dx], [0, 1, dy]]), x.shape[1::-1], flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
    if m.blur_px >= 1.5:
        x = cv2.filter2D(x, -1, _motion_kernel(m.blur_px, m.blur_angle), borderType=cv2.BORDER_REPLICATE)
    f = x.astype(np.float32) / 255.0
    if m.gamma != 1.0 or tuple(m.gain) != (1.0, 1.0, 1.0):
        f = np.clip(f * np.float32(m.gain), 0, 1) ** np.float32(m.gamma)
    if m.noise_std > 0:
        sd = m.noise_std / 255.0 * (0.5 + np.sqrt(f))  # read noise + shot noise
        f = f + sd * rng.standard_normal(f.shape).astype(np.float32)
    x = (np.clip(f, 0, 1) * 255 + 0.5).astype(np.uint8)
    if m.jpeg:
        ok, buf = cv2.imencode(".jpg", x[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(m.jpeg)])
        if ok:
            x = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(x)


def random_colour(rng: np.random.Generator, max_shift: float = 4.0) -> ColourModel:
    """A random camera/rig: each effect present with some probability, from mild to strong.

    gain 0.6-1.5 (per channel within +-15 % of it), gamma 0.7-1.4, noise 0-12 levels, motion blur 0-9 px
    (20 % of samples), JPEG quality 25-95 (30 %), misregistration up to ``max_shift`` px (50 %; real rigs 1-3 px).
    """
    g = rng.uniform(0.6, 1.5) * rng.uniform(0.85, 1.15, 3) if rng.random() < 0.6 else np.ones(3)
    shift = rng.uniform(-max_shift, max_shift, 2) * (rng.random() ** 0.5) if rng.random() < 0.5 else (0.0, 0.0)
    return ColourModel(
        gain=tuple(float(v) for v in g),
        gamma=float(rng.uniform(0.7, 1.4)) if rng.random() < 0.4 else 1.0,
        noise_std=float(rng.uniform(0, 12)) if rng.random() < 0.5 else 0.0,
        blur_px=float(rng.uniform(2, 9)) if rng.random() < 0.2 else 0.0,
        blur_angle=float(rng.uniform(0, 180)),
        jpeg=int(rng.integers(25, 96)) if rng.random() < 0.3 else 0,
        shift_px=(float(shift[0]), float(shift[1])),
    )


def paste_texture(rgb: np.ndarray, source: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Colour texture that no depth edge explains: a random rectangle (25-75 % of each side) of ``rgb`` is blended
    (alpha 0.5-1) with a texture, half the time a crop of ``source`` (another image's colour, same size or
    larger), else a procedural pattern (a checkerboard or stripes of random period 2-16 px and orientation, plus
    noise). Depth is left alone, so a model trained on it learns that texture on a flat surface is not depth."""
    H, W = rgb.shape[:2]
    h, w = (int(rng.integers(max(2, s // 4), max(3, 3 * s // 4 + 1))) for s in (H, W))
    y, x = int(rng.integers(0, H - h + 1)), int(rng.integers(0, W - w + 1))
    if rng.random() < 0.5 and source.shape[0] >= h and source.shape[1] >= w:
        sy, sx = int(rng.integers(0, source.shape[0] - h + 1)), int(rng.integers(0, source.shape[1] - w + 1))
        tex = source[sy:sy + h, sx:sx + w].astype(np.float32)
    else:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        a = rng.uniform(0, np.pi)
        u, v = xx * np.cos(a) + yy * np.sin(a), -xx * np.sin(a) + yy * np.cos(a)
        period = rng.uniform(2, 16)
        pat = (np.floor(u / period) % 2) if rng.random() < 0.5 else (np.sin(2 * np.pi * u / period) > 0)
        if rng.random() < 0.5:       # checkerboard: the second direction too
            pat = np.logical_xor(pat > 0, (np.floor(v / period) % 2) > 0)
        c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        tex = np.where(np.asarray(pat, bool)[..., None], c1, c0) + rng.normal(0, rng.uniform(0, 15), (h, w, 3))
    alpha = rng.uniform(0.5, 1.0)
    out = rgb.astype(np.float32)
    out[y:y + h, x:x + w] = (1 - alpha) * out[y:y + h, x:x + w] + alpha * tex
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)

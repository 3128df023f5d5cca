"""Classical depth up-sampling baselines, all with the same signature and the same hole handling.

    method(depth_lr, rgb, **kw) -> depth_hr
        depth_lr: (h, w) float32 metres, 0 or NaN = invalid (hole)
        rgb:      (H, W, 3) uint8 RGB; the output grid. H/h and W/w may be any (non-integer) ratio.
        returns   (H, W) float32 metres.

Hole handling (identical for every method): before up-sampling, each invalid LR pixel takes the value of
its nearest valid LR pixel (Euclidean distance transform labels). With ``fill_holes=False`` the HR pixels
whose nearest-neighbour LR source was a hole are set back to NaN afterwards, so the methods report the same
support. An all-invalid input gives an all-NaN output (and the caller reports it).

Resampling uses the pixel-area convention (pixel centres at (i + 0.5) * H / h), as cv2.resize does.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np


def invalid_mask(depth: np.ndarray) -> np.ndarray:
    """True where the depth is 0, negative, NaN or inf."""
    return ~(np.isfinite(depth) & (np.nan_to_num(depth, nan=0.0) > 0))


def fill_nearest(depth_lr: np.ndarray) -> np.ndarray:
    """(h, w) float32: holes replaced by the nearest valid pixel; all-NaN if nothing is valid."""
    d = np.asarray(depth_lr, np.float32)
    bad = invalid_mask(d)
    if not bad.any():
        return d.copy()
    if bad.all():
        return np.full(d.shape, np.nan, np.float32)
    _, labels = cv2.distanceTransformWithLabels(bad.astype(np.uint8), cv2.DIST_L2, 5,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    lut = np.zeros(int(labels.max()) + 1, np.float32)
    lut[labels[~bad]] = d[~bad]
    return lut[labels]


def _hr_hole_mask(depth_lr: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    bad = invalid_mask(depth_lr).astype(np.uint8)
    return cv2.resize(bad, size_hw[::-1], interpolation=cv2.INTER_NEAREST_EXACT) > 0


def _check(depth_lr: np.ndarray, rgb: np.ndarray) -> None:
    if depth_lr.ndim != 2:
        raise ValueError(f"depth must be (h, w), got shape {depth_lr.shape}")
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb must be (H, W, 3), got shape {rgb.shape}")


def _resize(depth_lr: np.ndarray, size_hw: tuple[int, int], interp: int) -> np.ndarray:
    d = fill_nearest(depth_lr)
    if np.isnan(d).all():
        return np.full(size_hw, np.nan, np.float32)
    return cv2.resize(d, size_hw[::-1], interpolation=interp).astype(np.float32)


def _finish(out: np.ndarray, depth_lr: np.ndarray, fill_holes: bool) -> np.ndarray:
    out = out.astype(np.float32)
    if not fill_holes:
        out[_hr_hole_mask(depth_lr, out.shape)] = np.nan
    return out


def nearest(depth_lr, rgb, fill_holes: bool = True):
    """Nearest-neighbour up-sampling (cv2 INTER_NEAREST_EXACT: pixel-centre rounding)."""
    _check(depth_lr, rgb)
    return _finish(_resize(depth_lr, rgb.shape[:2], cv2.INTER_NEAREST_EXACT), depth_lr, fill_holes)


def bilinear(depth_lr, rgb, fill_holes: bool = True):
    """Bilinear up-sampling."""
    _check(depth_lr, rgb)
    return _finish(_resize(depth_lr, rgb.shape[:2], cv2.INTER_LINEAR), depth_lr, fill_holes)


def bicubic(depth_lr, rgb, fill_holes: bool = True):
    """Bicubic up-sampling (cv2, a = -0.75), clipped to the input range to remove overshoot below 0."""
    _check(depth_lr, rgb)
    out = _resize(depth_lr, rgb.shape[:2], cv2.INTER_CUBIC)
    f = fill_nearest(depth_lr)
    if np.isfinite(f).any():
        out = np.clip(out, np.nanmin(f), np.nanmax(f))
    return _finish(out, depth_lr, fill_holes)


def jbu(depth_lr, rgb, radius: int = 2, sigma_space: float = 1.0, sigma_color: float = 15.0,
        fill_holes: bool = True):
    """Joint bilateral up-sampling (Kopf et al. 2007), vectorised NumPy.

    Each HR pixel p averages the LR samples q within ``radius`` LR pixels of its position, weighted by
    exp(-|p_lr - q|^2 / 2 sigma_space^2) (LR pixel units) * exp(-|I(p) - I_lr(q)|^2 / 2 sigma_color^2)
    (colour in 0-255 units, RGB Euclidean), where I_lr is the colour area-averaged onto the LR grid.
    """
    _check(depth_lr, rgb)
    H, W = rgb.shape[:2]
    d = fill_nearest(depth_lr)
    h, w = d.shape
    if np.isnan(d).all():
        return np.full((H, W), np.nan, np.float32)
    guide = rgb.astype(np.float32)
    guide_lr = cv2.resize(guide, (w, h), interpolation=cv2.INTER_AREA)
    # continuous LR coordinates of the HR pixel centres
    y = (np.arange(H, dtype=np.float32) + 0.5) * h / H - 0.5
    x = (np.arange(W, dtype=np.float32) + 0.5) * w / W - 0.5
    y0, x0 = np.round(y).astype(np.int64), np.round(x).astype(np.int64)
    num = np.zeros((H, W), np.float32)
    den = np.zeros((H, W), np.float32)
    inv_s, inv_c = np.float32(1.0 / (2 * sigma_space ** 2)), np.float32(1.0 / (2 * sigma_color ** 2))
    for dy in range(-radius, radius + 1):
        qy = np.clip(y0 + dy, 0, h - 1)
        wy = np.exp(-((qy - y) ** 2) * inv_s).astype(np.float32)[:, None]
        for dx in range(-radius, radius + 1):
            qx = np.clip(x0 + dx, 0, w - 1)
            wx = np.exp(-((qx - x) ** 2) * inv_s).astype(np.float32)[None, :]
            diff = guide - guide_lr[qy][:, qx]
            dist = np.einsum("ijc,ijc->ij", diff, diff)
            dist *= -inv_c
            wgt = np.exp(dist, out=dist)
            wgt *= wy * wx
            num += wgt * d[qy][:, qx]
            den += wgt
    out = np.where(den > 1e-12, num / np.maximum(den, 1e-12), np.nan)
    # a pixel whose colour matches no neighbour falls back to bicubic
    bad = ~np.isfinite(out)
    if bad.any():
        out[bad] = cv2.resize(d, (W, H), interpolation=cv2.INTER_CUBIC)[bad]
    return _finish(out, depth_lr, fill_holes)


def jbf(depth_lr, rgb, sigma_color: float = 12.0, sigma_space: float | None = None, fill_holes: bool = True):
    """Joint bilateral filter (cv2.ximgproc.jointBilateralFilter) on the bicubic up-sample, guided by colour.

    sigma_space defaults to the up-sampling factor (HR pixels); sigma_color in 0-255 units.
    """
    _check(depth_lr, rgb)
    up = bicubic(depth_lr, rgb, fill_holes=True)
    if np.isnan(up).all():
        return up
    s = sigma_space or max(1.0, rgb.shape[0] / depth_lr.shape[0])
    d = int(2 * round(1.5 * s) + 1)
    out = cv2.ximgproc.jointBilateralFilter(rgb.astype(np.float32), up, d, sigma_color, s)
    return _finish(out, depth_lr, fill_holes)


def guided(depth_lr, rgb, radius: int | None = None, eps: float = 1e-2, fill_holes: bool = True):
    """Guided filter (He et al.; cv2.ximgproc.guidedFilter) of the bicubic up-sample guided by the colour
    image scaled to [0, 1]. radius defaults to the up-sampling factor (HR pixels); eps is the variance
    regulariser in (0-1 colour)^2 units."""
    _check(depth_lr, rgb)
    up = bicubic(depth_lr, rgb, fill_holes=True)
    if np.isnan(up).all():
        return up
    r = radius or max(2, int(round(rgb.shape[0] / depth_lr.shape[0])))
    out = cv2.ximgproc.guidedFilter(rgb.astype(np.float32) / 255.0, up, r, eps)
    return _finish(out, depth_lr, fill_holes)


def dtf(depth_lr, rgb, sigma_spatial: float | None = None, sigma_color: float = 25.0, fill_holes: bool = True):
    """Domain-transform filter (Gastal & Oliveira 2011; cv2.ximgproc.dtFilter, normalised convolution, 3
    iterations) of the bicubic up-sample guided by the colour image. sigma_spatial defaults to twice the
    up-sampling factor (HR pixels); sigma_color in 0-255 units."""
    _check(depth_lr, rgb)
    up = bicubic(depth_lr, rgb, fill_holes=True)
    if np.isnan(up).all():
        return up
    s = sigma_spatial or 2.0 * max(1.0, rgb.shape[0] / depth_lr.shape[0])
    out = cv2.ximgproc.dtFilter(np.ascontiguousarray(rgb), up, s, sigma_color, mode=cv2.ximgproc.DTF_NC, numIters=3)
    return _finish(out, depth_lr, fill_holes)


BASELINES: dict[str, Callable] = {
    "nearest": nearest,
    "bilinear": bilinear,
    "bicubic": bicubic,
    "jbu": jbu,
    "guided": guided,
    "dtf": dtf,
}
EXTRA_BASELINES: dict[str, Callable] = {"jbf": jbf}


def get_method(name: str) -> Callable:
    """A baseline by name (see BASELINES and EXTRA_BASELINES)."""
    table = {**BASELINES, **EXTRA_BASELINES}
    if name not in table:
        raise KeyError(f"unknown baseline {name!r} (known: {', '.join(table)})")
    return table[name]

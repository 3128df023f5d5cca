"""Camera geometry in NumPy (vectorised, no per-pixel loops): back-projection, registration, point arrays.

Frames are REP 103 optical frames (x right, y down, z forward); depth in metres, invalid = NaN or <= 0.
"""
from __future__ import annotations

import numpy as np

from .frame import Intrinsics

LOW_RATIO = 1.5   # output / input size under which there is little to super-resolve (the model trains on 2-16)


def upscale_ratio(in_hw: tuple[int, int], out_hw: tuple[int, int]) -> float:
    """Output / input size of an upscaling, the geometric mean of both axes."""
    return float(np.sqrt(out_hw[0] * out_hw[1] / (in_hw[0] * in_hw[1])))


def valid_mask(depth: np.ndarray) -> np.ndarray:
    """Finite and strictly positive depth."""
    return np.isfinite(depth) & (depth > 0)


def pixel_grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) float32 arrays of shape (height, width) with pixel-centre coordinates 0..W-1, 0..H-1."""
    u = np.arange(width, dtype=np.float32)[None, :].repeat(height, 0)
    v = np.arange(height, dtype=np.float32)[:, None].repeat(width, 1)
    return u, v


def backproject(depth: np.ndarray, K: Intrinsics, decimation: int = 1) -> np.ndarray:
    """Depth (H, W) metres -> points (H', W', 3) float32 in the camera optical frame, NaN where invalid.

    ``decimation`` keeps every n-th row/column (H' = ceil(H / n)); pixel coordinates are those of the
    kept pixels in the full image, so the points are exact (not a rescaled camera).
    """
    if depth.shape != (K.height, K.width):
        raise ValueError(f"depth {depth.shape[::-1]} does not match intrinsics {K.width}x{K.height}")
    n = max(1, int(decimation))
    d = np.asarray(depth, np.float32)[::n, ::n]
    us = np.arange(0, K.width, n, dtype=np.float32)
    vs = np.arange(0, K.height, n, dtype=np.float32)
    z = np.where(valid_mask(d), d, np.float32(np.nan))
    out = np.empty(d.shape + (3,), np.float32)
    out[..., 0] = ((us[None, :] - np.float32(K.cx)) / np.float32(K.fx)) * z
    out[..., 1] = ((vs[:, None] - np.float32(K.cy)) / np.float32(K.fy)) * z
    out[..., 2] = z
    return out


def lr_grid_for(rgb_info: Intrinsics, depth_hw: tuple[int, int]) -> Intrinsics:
    """The low-resolution grid aligned with the colour camera on which registered depth is produced:
    the rgb intrinsics scaled to the depth image's width, keeping the rgb aspect ratio."""
    h, w = depth_hw
    out_w = int(w)
    out_h = max(1, int(round(rgb_info.height * out_w / rgb_info.width)))
    return rgb_info.scaled(out_w, out_h)


def register_depth(depth: np.ndarray, depth_info: Intrinsics, out_info: Intrinsics,
                   depth_to_out: np.ndarray | None = None, max_splat: float = 1.0) -> np.ndarray:
    """Reproject a depth image into another camera (depth_image_proc ``register`` semantics).

    depth:        (h, w) metres, invalid NaN/<=0, on the ``depth_info`` grid.
    out_info:     target intrinsics (e.g. ``lr_grid_for(rgb_info, depth.shape)``).
    depth_to_out: (4, 4) rigid transform, depth optical frame -> target optical frame (None: identity).
    Returns (out_info.height, out_info.width) float32 metres, NaN where nothing lands. Every valid depth
    pixel is back-projected, transformed and projected; like depth_image_proc it covers the target pixels
    inside the projected footprint of the source pixel (half size capped at ``max_splat`` px), so a
    sub-pixel shift leaves no holes; when several land on one pixel the nearest (smallest z) wins (z-buffer).
    """
    if depth.shape != (depth_info.height, depth_info.width):
        raise ValueError(f"depth {depth.shape[::-1]} does not match depth intrinsics "
                         f"{depth_info.width}x{depth_info.height}")
    pts = backproject(depth, depth_info).reshape(-1, 3)
    pts = pts[np.isfinite(pts[:, 2])].astype(np.float64)
    z_src = pts[:, 2].copy()
    if depth_to_out is not None:
        T = np.asarray(depth_to_out, np.float64)
        if T.shape != (4, 4):
            raise ValueError(f"depth_to_out must be 4x4, got {T.shape}")
        pts = pts @ T[:3, :3].T + T[:3, 3]
    W, H = out_info.width, out_info.height
    out = np.full(H * W, np.inf, np.float64)
    z = pts[:, 2]
    front = z > 1e-6
    pts, z, z_src = pts[front], z[front], z_src[front]
    uf = out_info.fx * pts[:, 0] / z + out_info.cx
    vf = out_info.fy * pts[:, 1] / z + out_info.cy
    # footprint of the source pixel in the target image (half sizes, px), capped to keep the splat small
    hu = np.minimum(0.5 * out_info.fx * z_src / (depth_info.fx * z), max_splat) + 1e-6
    hv = np.minimum(0.5 * out_info.fy * z_src / (depth_info.fy * z), max_splat) + 1e-6
    u0, v0 = np.rint(uf).astype(np.int64), np.rint(vf).astype(np.int64)
    k = int(np.ceil(max_splat))
    for du in range(-k, k + 1):
        for dv in range(-k, k + 1):
            u, v = u0 + du, v0 + dv
            hit = (np.abs(u - uf) <= hu) & (np.abs(v - vf) <= hv) if (du or dv) else np.ones(u.shape, bool)
            hit &= (u >= 0) & (u < W) & (v >= 0) & (v < H)
            np.minimum.at(out, v[hit] * W + u[hit], z[hit])
    out[np.isinf(out)] = np.nan
    return out.reshape(H, W).astype(np.float32)


def transform_from_xyz_quat(xyz, quat_xyzw) -> np.ndarray:
    """(x, y, z) metres + quaternion (x, y, z, w) -> (4, 4) homogeneous transform."""
    x, y, z, w = (float(c) for c in quat_xyzw)
    n = np.sqrt(x * x + y * y + z * z + w * w)
    if n < 1e-12:
        raise ValueError("zero quaternion")
    x, y, z, w = x / n, y / n, z / n, w / n
    T = np.eye(4)
    T[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                 [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                 [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
    T[:3, 3] = [float(c) for c in xyz]
    return T

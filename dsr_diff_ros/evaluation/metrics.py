"""Depth super-resolution metrics on a valid-pixel mask.

All inputs are (H, W) float arrays on the same grid. The ground truth is valid where it is finite and > 0
(plus an optional explicit mask and a border crop). A prediction that is NaN/inf (or <= 0) at a valid GT pixel
is *missing*: it is excluded from the error terms but counted in ``coverage`` (fraction of valid GT pixels
with a usable prediction) and ``n_missing`` -- never silently dropped.

Units: inputs are in metres for the metric protocols (``unit`` = "m", "cm", "mm" rescales RMSE/MAE/edge RMSE);
``unit="255"`` (alias "0-255") means the inputs are already on the 0-255 scale of Middlebury/Lu and
are reported as is (optionally rounded to integers, as the reference code casts to uint8).
AbsRel and the delta thresholds are unit free.
"""
from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

UNIT_FACTOR = {"m": 1.0, "cm": 100.0, "mm": 1000.0, "255": 1.0, "0-255": 1.0, "raw": 1.0}
METRIC_KEYS = ("rmse", "mae", "absrel", "delta1", "delta2", "delta3", "edge_rmse", "flat_rmse", "coverage")


def valid_mask(gt: np.ndarray, mask: Optional[np.ndarray] = None, crop: int = 0) -> np.ndarray:
    """Boolean (H, W): GT finite and > 0, inside ``mask`` and outside a ``crop``-pixel border."""
    v = np.isfinite(gt) & (np.nan_to_num(gt, nan=0.0) > 0)
    if mask is not None:
        v &= mask.astype(bool)
    if crop > 0:
        b = np.zeros_like(v)
        b[crop:-crop, crop:-crop] = True
        v &= b
    return v


def edge_band(gt: np.ndarray, width: int = 2, rel_threshold: float = 0.05, abs_threshold: float = 0.0,
              valid: Optional[np.ndarray] = None) -> np.ndarray:
    """Boolean (H, W) band of half-width ``width`` pixels around depth discontinuities of ``gt``.

    A pixel is a discontinuity when the depth range (max - min) over its valid 3x3 neighbourhood exceeds
    ``max(rel_threshold * depth, abs_threshold)`` (same units as ``gt``). Invalid pixels (holes) are not
    treated as edges themselves; the band is then dilated by a (2*width+1) square.
    """
    g = np.nan_to_num(gt.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    v = (g > 0) if valid is None else (valid & (g > 0))
    k = np.ones((3, 3), np.uint8)
    hi = cv2.dilate(np.where(v, g, -1e30).astype(np.float32), k)
    lo = cv2.erode(np.where(v, g, 1e30).astype(np.float32), k)
    rng = np.where(v, hi - lo, 0)
    edges = v & (rng > np.maximum(rel_threshold * g, abs_threshold))
    if width > 0:
        edges = cv2.dilate(edges.astype(np.uint8), np.ones((2 * width + 1, 2 * width + 1), np.uint8)) > 0
    return edges


def compute_metrics(pred: np.ndarray, gt: np.ndarray, mask: Optional[np.ndarray] = None, crop: int = 0,
                    unit: str = "m", edge_width: int = 2, edge_rel_threshold: float = 0.05,
                    quantize: bool = False) -> dict:
    """Metrics of one prediction.

    pred, gt: (H, W) float depth (metres, or the 0-255 scale with ``unit="255"``); mask: optional (H, W) bool.
    crop: border pixels excluded on every side (NYU protocol: 6). quantize: round both to integers after
    unit scaling (the uint8 convention of the Middlebury/Lu reference code).
    Returns a dict: rmse, mae, edge_rmse and flat_rmse (inside / outside the +-edge_width band around depth
    edges; in ``unit``), absrel, delta1..3 (fractions), coverage (fraction of valid
    GT pixels with a finite positive prediction), n_valid, n_missing, n_edge. Error terms are NaN when no
    pixel qualifies.
    """
    if unit not in UNIT_FACTOR:
        raise ValueError(f"unknown unit {unit!r} (expected one of {sorted(UNIT_FACTOR)})")
    pred = np.asarray(pred, np.float64)
    gt = np.asarray(gt, np.float64)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from ground truth shape {gt.shape}")
    v = valid_mask(gt, mask, crop)
    have = np.isfinite(pred) & (np.nan_to_num(pred, nan=0.0) > 0)
    used = v & have
    n_valid, n_used = int(v.sum()), int(used.sum())
    out = {"n_valid": n_valid, "n_missing": n_valid - n_used,
           "coverage": (n_used / n_valid) if n_valid else float("nan")}
    f = UNIT_FACTOR[unit]
    p, g = pred[used] * f, gt[used] * f
    if quantize:
        p, g = np.round(p), np.round(g)
    nan = float("nan")
    if n_used:
        e = p - g
        out["rmse"] = float(np.sqrt(np.mean(e ** 2)))
        out["mae"] = float(np.mean(np.abs(e)))
        gp = np.where(g > 0, g, np.nan)
        out["absrel"] = float(np.nanmean(np.abs(e) / gp)) if np.any(g > 0) else nan
        ratio = np.maximum(p / gp, gp / np.where(p > 0, p, np.nan))
        ratio = np.where(np.isfinite(ratio), ratio, np.inf)
        for i, name in enumerate(("delta1", "delta2", "delta3"), 1):
            out[name] = float(np.mean(ratio < 1.25 ** i))
    else:
        out.update(rmse=nan, mae=nan, absrel=nan, delta1=nan, delta2=nan, delta3=nan)
    edges = edge_band(gt, edge_width, edge_rel_threshold, valid=valid_mask(gt, mask))

    def band_rmse(sel: np.ndarray) -> float:
        if not sel.any():
            return nan
        ps, gs = pred[sel] * f, gt[sel] * f
        if quantize:
            ps, gs = np.round(ps), np.round(gs)
        return float(np.sqrt(np.mean((ps - gs) ** 2)))

    out["n_edge"] = int((edges & used).sum())
    out["edge_rmse"] = band_rmse(edges & used)
    out["flat_rmse"] = band_rmse(used & ~edges)
    return out


def aggregate(rows: list[dict], keys=METRIC_KEYS) -> dict:
    """Mean over frames of each metric (the papers' convention: mean of per-image RMSE), ignoring NaN
    entries; adds ``n_frames``. Returns NaN for a key no row has."""
    out = {"n_frames": len(rows)}
    for k in keys:
        vals = np.array([r[k] for r in rows if k in r and r[k] is not None], np.float64)
        vals = vals[np.isfinite(vals)]
        out[k] = float(vals.mean()) if len(vals) else float("nan")
    return out

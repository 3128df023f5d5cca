"""Sensor profile estimated from a recording alone: sizes, depth noise as a function of depth, hole rate and the
colour/depth offset.

Noise: on the LR grid, r = d - mean(4 neighbours) on pixels whose 3x3 neighbourhood is valid; for white noise
sigma, std(r) = sigma * sqrt(1 + 1/4). Per depth bin (quantiles of the valid depth) sigma is the robust spread
1.4826 * MAD(r) / 1.118 (edges and flying pixels are outliers); then sigma = k z (ToF) and sigma = k z^2
(structured light) are fitted through the bins and the law with the smaller relative error is kept.

Offset: the colour edges (gradient magnitude of the grey image, clipped at its 90th percentile) are
cross-correlated with the depth edges (the strongest 10 % of the gradient magnitude of the log of the upsampled
LR depth, where it is valid) over shifts of +-max_shift px,
summed over frames; the peak, refined with a parabola, is the offset (dx, dy) in colour pixels: the colour
image shows a point (dx, dy) px away from where the depth shows it (positive dx: colour displaced to the right).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import cv2
import numpy as np


@dataclass
class SensorProfile:
    """What the recording says about its sensor (units in the names; all from the data, no ground truth).

    lr_size / rgb_size: (width, height); ratio: colour width / depth width
    noise_law: "linear" (sigma = noise_coef * z) or "quadratic" (sigma = noise_coef * z^2)
    noise_linear / noise_quadratic: the two fitted coefficients (1, 1/m)
    noise_table: [[z_m, sigma_m, pixels], ...] per depth bin
    hole_rate: fraction of invalid LR pixels; offset_px: (dx, dy) colour vs depth, colour pixels
    offset_score: peak / mean of the edge correlation (about 1: no reliable offset)
    offset_source: "estimated", or "given (estimated dx, dy)" when ``AdaptConfig.offset_px`` replaced the estimate
    depth_range_m: 2nd and 98th percentile of the valid depth
    """

    lr_size: tuple = (0, 0)
    rgb_size: tuple = (0, 0)
    ratio: float = 1.0
    noise_law: str = "linear"
    noise_coef: float = 0.0
    noise_linear: float = 0.0
    noise_quadratic: float = 0.0
    noise_table: list = field(default_factory=list)
    hole_rate: float = 0.0
    offset_px: tuple = (0.0, 0.0)
    offset_score: float = 0.0
    offset_source: str = "estimated"
    depth_range_m: tuple = (0.0, 0.0)
    frames: int = 0

    def sigma(self, z: np.ndarray) -> np.ndarray:
        """Estimated noise std (metres) at depth z (metres)."""
        return self.noise_coef * (z if self.noise_law == "linear" else z * z)

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict) -> "SensorProfile":
        return cls(**{k: (tuple(v) if k in ("lr_size", "rgb_size", "offset_px", "depth_range_m") else v)
                      for k, v in d.items() if k in cls.__dataclass_fields__})


def noise_residuals(depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(z, r) of the pixels of an (h, w) metres map whose 4 neighbours are valid: r = d - mean(neighbours)."""
    d = depth.astype(np.float32)
    v = d > 0
    c = d[1:-1, 1:-1]
    nb = (d[:-2, 1:-1], d[2:, 1:-1], d[1:-1, :-2], d[1:-1, 2:])
    ok = v[1:-1, 1:-1] & v[:-2, 1:-1] & v[2:, 1:-1] & v[1:-1, :-2] & v[1:-1, 2:]
    r = c - 0.25 * (nb[0] + nb[1] + nb[2] + nb[3])
    return c[ok], r[ok]


def estimate_noise(depths: list, bins: int = 8, min_px: int = 200) -> dict:
    """Noise law from LR depth maps (metres). Returns noise_law, noise_coef, noise_linear, noise_quadratic,
    noise_table."""
    zs, rs = zip(*(noise_residuals(d) for d in depths)) if depths else ([], [])
    z = np.concatenate(zs) if zs else np.zeros(0, np.float32)
    r = np.concatenate(rs) if rs else np.zeros(0, np.float32)
    out = {"noise_law": "linear", "noise_coef": 0.0, "noise_linear": 0.0, "noise_quadratic": 0.0, "noise_table": []}
    if z.size < min_px:
        return out
    edges = np.unique(np.quantile(z, np.linspace(0, 1, bins + 1)))
    table = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (z >= lo) & (z <= hi)
        if m.sum() < min_px:
            continue
        rb = r[m]
        sig = 1.4826 * float(np.median(np.abs(rb - np.median(rb)))) / np.sqrt(1.25)
        table.append([float(np.median(z[m])), sig, int(m.sum())])
    if not table:
        return out
    tz, ts = np.array([t[0] for t in table]), np.array([t[1] for t in table])
    fits = {}
    for law, basis in (("linear", tz), ("quadratic", tz ** 2)):
        k = float(np.sum(basis * ts) / max(np.sum(basis * basis), 1e-12))  # least squares through 0
        rel = float(np.mean(np.abs(k * basis - ts) / np.maximum(ts, 1e-6)))
        fits[law] = (k, rel)
    law = min(fits, key=lambda k: fits[k][1])
    return {"noise_law": law, "noise_coef": fits[law][0], "noise_linear": fits["linear"][0],
            "noise_quadratic": fits["quadratic"][0], "noise_table": [[round(a, 4), round(b, 5), c] for a, b, c in table]}


def _edges_depth(depth: np.ndarray, hw: tuple[int, int], blur: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradient magnitude of log depth upsampled to (H, W), and its validity."""
    v = (depth > 0).astype(np.float32)
    ld = np.where(depth > 0, np.log(np.maximum(depth, 1e-3)), 0).astype(np.float32)
    # fill invalid pixels with a normalised blur so holes do not create edges
    num, den = cv2.blur(ld * v, (5, 5)), cv2.blur(v, (5, 5))
    ld = np.where(v > 0, ld, num / np.maximum(den, 1e-6)).astype(np.float32)
    up = cv2.resize(ld, hw[::-1], interpolation=cv2.INTER_LINEAR)
    # (INTER_NEAREST would shift the mask by up to half an LR pixel: a bias of the offset at edge holes)
    vu = cv2.resize(v, hw[::-1], interpolation=cv2.INTER_LINEAR) > 0.99
    up = cv2.GaussianBlur(up, (0, 0), blur)
    g = np.hypot(cv2.Sobel(up, cv2.CV_32F, 1, 0), cv2.Sobel(up, cv2.CV_32F, 0, 1))
    return g, vu


def _edges_colour(rgb: np.ndarray, blur: float) -> np.ndarray:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    grey = cv2.GaussianBlur(grey, (0, 0), blur)
    return np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))


def _parabola(cm: float, c0: float, cp: float) -> float:
    den = cm - 2 * c0 + cp
    return float(np.clip(0.5 * (cm - cp) / den, -0.5, 0.5)) if den < 0 else 0.0


def estimate_offset(rgbs: list, depths: list, max_shift: int = 8, work_width: int = 320) -> tuple[tuple, float]:
    """Colour/depth offset (dx, dy) in colour pixels and the peak score (see the module doc).

    Works at ``work_width`` px (or the colour width when smaller) and scales the result back."""
    H, W = rgbs[0].shape[:2]
    f = min(1.0, work_width / W)
    hw = (max(8, int(round(H * f))), max(8, int(round(W * f))))
    R = max(1, int(np.ceil(max_shift * f)))
    blur = max(0.8, 0.5 * (W / depths[0].shape[1]) * f)
    acc = np.zeros((2 * R + 1, 2 * R + 1), np.float64)
    for rgb, depth in zip(rgbs, depths):
        if not (depth > 0).any():
            continue
        gd, vd = _edges_depth(depth, hw, blur)
        gc = _edges_colour(cv2.resize(rgb, hw[::-1], interpolation=cv2.INTER_AREA), blur)
        gd = np.where(vd, gd, 0)
        if vd.any():  # the strongest depth edges only (noise and slopes are not edges)
            gd = np.where(gd > np.quantile(gd[vd], 0.9), gd, 0)
        gd = (gd - gd[vd].mean()) / (gd[vd].std() + 1e-8) * vd if vd.any() else gd
        gc = np.minimum(gc, np.quantile(gc, 0.9))  # a few very strong colour edges must not decide alone
        gc = (gc - gc.mean()) / (gc.std() + 1e-8)
        core = gd[R:-R, R:-R]
        for j, dy in enumerate(range(-R, R + 1)):
            for i, dx in enumerate(range(-R, R + 1)):
                acc[j, i] += float(np.sum(core * gc[R + dy:hw[0] - R + dy, R + dx:hw[1] - R + dx]))
    j, i = np.unravel_index(int(np.argmax(acc)), acc.shape)
    sx = _parabola(acc[j, i - 1], acc[j, i], acc[j, i + 1]) if 0 < i < 2 * R else 0.0
    sy = _parabola(acc[j - 1, i], acc[j, i], acc[j + 1, i]) if 0 < j < 2 * R else 0.0
    dx, dy = (i - R + sx) / f, (j - R + sy) / f
    spread = acc - acc.min()
    score = float(spread[j, i] / max(spread.mean(), 1e-12))
    return (round(float(dx), 2), round(float(dy), 2)), round(score, 3)


def estimate_profile(rgbs: list, depths: list, max_frames: int = 40, max_shift: int = 8) -> SensorProfile:
    """The profile of a recording from up to ``max_frames`` of its (rgb uint8 (H,W,3), depth metres (h,w)) pairs."""
    if not rgbs:
        raise ValueError("no frames to estimate a sensor profile from")
    idx = np.linspace(0, len(rgbs) - 1, min(max_frames, len(rgbs))).round().astype(int)
    rg, dp = [rgbs[i] for i in idx], [depths[i] for i in idx]
    (H, W), (h, w) = rg[0].shape[:2], dp[0].shape
    valid = np.concatenate([d[d > 0] for d in dp]) if any((d > 0).any() for d in dp) else np.zeros(1)
    offset, score = estimate_offset(rg, dp, max_shift)
    return SensorProfile(
        lr_size=(w, h), rgb_size=(W, H), ratio=round(W / w, 4), **estimate_noise(dp),
        hole_rate=round(float(np.mean([(d <= 0).mean() for d in dp])), 4), offset_px=offset, offset_score=score,
        depth_range_m=(round(float(np.percentile(valid, 2)), 3), round(float(np.percentile(valid, 98)), 3)),
        frames=len(dp))

"""Training samples made from the recording itself (no ground truth).

Cross-scale (``cross_scale_batch``): the real LR depth crop d (c x c, metres) is the *target*; the input is d
degraded once more by the sensor's own model (area down-sampling by the recording's ratio, the estimated noise law
topped up so the total noise matches the sensor's, blob holes at the estimated rate, edge holes, flying pixels),
and the guide is the colour brought to the LR grid with the sensor's colour/depth offset re-applied in pixels of
that grid, so the network sees the same ratio, noise and misregistration as at run time, one octave lower.

Real scale (``real_batch``): crops of the real (LR depth, colour) pairs at the run-time resolution, for the
down-sampling consistency, edge-alignment and base-regulariser losses. Colour is also kept *aligned* (the
estimated offset removed) for the edge term.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from ..data.degradations import SensorModel, sensor_downsample
from .profile import SensorProfile


def shift_image(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Content moved by (dx, dy) px (bilinear, replicated border), like ``data.colour`` misregistration."""
    if not dx and not dy:
        return img
    return cv2.warpAffine(img, np.float32([[1, 0, dx], [0, 1, dy]]), img.shape[1::-1], flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


@dataclass
class PreparedFrame:
    """One recording frame ready for sampling.

    rgb: (H,W,3) uint8 as recorded; rgb_aligned: the same with the estimated offset removed;
    rgb_lr: (h,w,3) uint8 colour on the LR grid carrying the sensor's offset in LR-grid pixels;
    depth: (h,w) float32 metres, 0 invalid."""

    rgb: np.ndarray
    rgb_aligned: np.ndarray
    rgb_lr: np.ndarray
    depth: np.ndarray


def prepare_frame(rgb: np.ndarray, depth: np.ndarray, profile: SensorProfile, keep_aligned: bool = True
                  ) -> PreparedFrame:
    """``keep_aligned=False``: do not keep the full-size aligned colour (only the edge term reads it; saves
    H*W*3 bytes a frame)."""
    dx, dy = profile.offset_px
    aligned = shift_image(rgb, -dx, -dy)
    h, w = depth.shape
    small = cv2.resize(aligned, (w, h), interpolation=cv2.INTER_AREA)
    return PreparedFrame(rgb, aligned if keep_aligned else rgb, shift_image(small, dx, dy),
                         depth.astype(np.float32, copy=False))


def sensor_of(profile: SensorProfile) -> SensorModel:
    """The profile as a ``SensorModel`` for the second degradation. The noise coefficient is reduced by
    sqrt(1 - 1/r^2): the area down-sampling by r already keeps ~1/r of the recording's own noise."""
    r = max(profile.ratio, 1.0 + 1e-6)
    return SensorModel(noise=profile.noise_law, noise_std=float(profile.noise_coef * np.sqrt(max(0.0, 1 - 1 / r ** 2))),
                       quant_mm=0.0, hole_rate=float(min(profile.hole_rate, 0.3)), edge_holes=0.3, flying=0.2,
                       downsample="area", max_range=1e6)


def _to_t(rgbs: list, depths: list) -> tuple[torch.Tensor, torch.Tensor]:
    r = torch.from_numpy(np.stack(rgbs)).permute(0, 3, 1, 2).float().div_(255)
    d = torch.from_numpy(np.stack(depths))[:, None].float()
    return r, d


def _crop_origin(rng: np.random.Generator, hw: tuple[int, int], c: tuple[int, int]) -> tuple[int, int]:
    return int(rng.integers(0, hw[0] - c[0] + 1)), int(rng.integers(0, hw[1] - c[1] + 1))


def cross_scale_batch(frames: list, profile: SensorProfile, rng: np.random.Generator, batch: int, crop: int
                      ) -> dict:
    """dict(rgb (B,3,c,c) [0,1], depth_lr (B,1,c/r,c/r) metres, target (B,1,c,c) metres, 0 = invalid)."""
    h, w = frames[0].depth.shape
    c = (min(crop, h), min(crop, w))
    sm, r = sensor_of(profile), max(profile.ratio, 1.0)
    rgbs, ins, tgts = [], [], []
    for _ in range(batch):
        f = frames[int(rng.integers(len(frames)))]
        y, x = _crop_origin(rng, (h, w), c)
        d = f.depth[y:y + c[0], x:x + c[1]]
        rgbs.append(f.rgb_lr[y:y + c[0], x:x + c[1]])
        ins.append(sensor_downsample(d, r, sm, rng))
        tgts.append(d)
    rgb, tgt = _to_t(rgbs, tgts)
    return {"rgb": rgb, "depth_lr": torch.from_numpy(np.stack(ins))[:, None], "target": tgt}


def real_batch(frames: list, rng: np.random.Generator, batch: int, crop: int) -> dict:
    """Real-scale crops: dict(rgb (B,3,Hc,Wc), rgb_aligned (B,3,Hc,Wc), depth_lr (B,1,c,c) metres).
    ``crop`` is in LR pixels; the colour crop covers the same field of view (to half a colour pixel)."""
    (h, w), (H, W) = frames[0].depth.shape, frames[0].rgb.shape[:2]
    c = (min(crop, h), min(crop, w))
    Hc, Wc = int(round(c[0] * H / h)), int(round(c[1] * W / w))
    rgbs, al, lrs = [], [], []
    for _ in range(batch):
        f = frames[int(rng.integers(len(frames)))]
        y, x = _crop_origin(rng, (h, w), c)
        Y, X = min(int(round(y * H / h)), H - Hc), min(int(round(x * W / w)), W - Wc)
        rgbs.append(f.rgb[Y:Y + Hc, X:X + Wc])
        al.append(f.rgb_aligned[Y:Y + Hc, X:X + Wc])
        lrs.append(f.depth[y:y + c[0], x:x + c[1]])
    rgb, d = _to_t(rgbs, lrs)
    return {"rgb": rgb, "rgb_aligned": _to_t(al, lrs)[0], "depth_lr": d}

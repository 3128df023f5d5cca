"""Training batches: procedural scenes + random degradations, deterministic per (seed, index)."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ..data.degradations import SensorModel, degrade
from ..data.synthetic import SceneGenerator


def random_sensor(rng: np.random.Generator) -> SensorModel:
    """A random low-cost sensor: structured light or ToF, light to heavy noise, holes, flying pixels."""
    quad = rng.random() < 0.6
    return SensorModel(
        noise="quadratic" if quad else "linear",
        noise_std=float(rng.uniform(0, 0.005) if quad else rng.uniform(0, 0.02)),
        quant_mm=float(rng.choice([0.0, 1.0, 2.0])),
        hole_rate=float(rng.uniform(0, 0.06)),
        edge_holes=float(rng.uniform(0, 0.6)),
        flying=float(rng.uniform(0, 0.4)),
        downsample=str(rng.choice(["area", "nearest"])),
        max_range=1e3,
    )


@dataclass
class BatchSpec:
    batch: int = 8
    patch: int = 128
    p_x4: float = 0.4            # share of batches at exactly x4 (the shipped default's main use)
    scale_range: tuple = (2.0, 16.0)
    p_bicubic: float = 0.25      # share of samples degraded by the paper protocol instead of the sensor model
    p_misregister: float = 0.0   # share of samples whose colour is shifted against depth (real RGB-D rigs are
    max_shift: float = 2.0       # registered to a few pixels, not exactly), by up to max_shift HR pixels


class SyntheticBatches(Dataset):
    """``ds[i]`` -> dict(rgb (B,3,P,P) [0,1], depth_hr (B,1,P,P) m, depth_lr (B,1,h,w) m 0=invalid, scale float).
    One scale per batch (non-integer allowed); everything deterministic in (seed, i)."""

    def __init__(self, spec: BatchSpec = BatchSpec(), seed: int = 0, length: int = 10 ** 9):
        self.spec, self.seed, self.length = spec, seed, length
        self.gen = SceneGenerator(spec.patch, spec.patch)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> dict:
        s = self.spec
        rng = np.random.default_rng([self.seed, i])
        lo, hi = s.scale_range
        scale = 4.0 if rng.random() < s.p_x4 else float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        rgbs, hrs, lrs = [], [], []
        for k in range(s.batch):
            sc = self.gen(int(rng.integers(2 ** 62)))
            if rng.random() < s.p_bicubic:
                lr = degrade(sc.depth, scale, "bicubic")
            else:
                lr = degrade(sc.depth, scale, "sensor", random_sensor(rng), rng)
            rgb = sc.rgb
            mrng = np.random.default_rng([self.seed, i, k, 1])  # own stream: scenes do not depend on it
            if mrng.random() < s.p_misregister:
                dx, dy = mrng.uniform(-s.max_shift, s.max_shift, 2)
                rgb = cv2.warpAffine(rgb, np.float32([[1, 0, dx], [0, 1, dy]]), rgb.shape[1::-1],
                                     flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            rgbs.append(rgb)
            hrs.append(sc.depth)
            lrs.append(lr)
        return {
            "rgb": torch.from_numpy(np.stack(rgbs)).permute(0, 3, 1, 2).float() / 255.0,
            "depth_hr": torch.from_numpy(np.stack(hrs))[:, None],
            "depth_lr": torch.from_numpy(np.stack(lrs))[:, None],
            "scale": scale,
        }

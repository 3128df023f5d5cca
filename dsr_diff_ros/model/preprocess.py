"""Input conditioning shared by training and inference: normalisation, hole filling, padding.

Normalisation (documented, per frame): s = max of the valid LR depth (metres, >= 0.1); the networks see d / s
in [0, 1] and the output is multiplied back by s, so any metric range works (a 0.3 m desk or a 40 m hall).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def fill_holes(d: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Push-pull hole filling. d, m: (B,1,h,w) with m in {0,1}. Invalid pixels get the mask-weighted mean of
    the finest pyramid level that has data around them; valid pixels are unchanged."""
    ds, ms = [d * m], [m]
    for _ in range(max(1, math.ceil(math.log2(max(d.shape[-2:]))))):
        ds.append(F.avg_pool2d(ds[-1], 2, ceil_mode=True))
        ms.append(F.avg_pool2d(ms[-1], 2, ceil_mode=True))
    fill = ds[-1] / ms[-1].clamp_min(1e-8)
    for dd, mm in zip(reversed(ds[:-1]), reversed(ms[:-1])):
        up = F.interpolate(fill, size=dd.shape[-2:], mode="bilinear", align_corners=False)
        fill = torch.where(mm > 0, dd / mm.clamp_min(1e-8), up)
    return torch.where(m > 0, d, fill)


@dataclass
class Prepared:
    """Network inputs for one batch.

    lr:        (B,2,h,w) [normalised hole-filled LR depth, valid mask]
    rgb:       (B,3,Hp,Wp) colour in [0,1], padded to multiples of u
    base:      (B,1,Hp,Wp) bicubic upsampling of the filled LR depth (normalised)
    lr_grid:   (B,2,Hp/u,Wp/u) [LR depth, valid mask] resampled to the working grid
    scale:     (B,1,1,1) metres per normalised unit
    support:   (B,1,H,W) bool, the output has input support (for NaN-masking)
    hw:        output (H, W) before padding
    """

    lr: torch.Tensor
    rgb: torch.Tensor
    base: torch.Tensor
    lr_grid: torch.Tensor
    scale: torch.Tensor
    support: torch.Tensor
    hw: tuple[int, int]


def prepare(depth_lr: torch.Tensor, rgb: torch.Tensor, u: int) -> Prepared:
    """depth_lr (B,1,h,w) metres, 0/NaN/negative = invalid; rgb (B,3,H,W) in [0,1]."""
    d = torch.nan_to_num(depth_lr.float(), nan=0.0, posinf=0.0, neginf=0.0)
    m = (d > 0).float()
    d = d * m
    scale = d.amax(dim=(1, 2, 3), keepdim=True).clamp_min(0.1)
    dn = fill_holes(d / scale, m)
    H, W = rgb.shape[-2:]
    Hp, Wp = -(-H // u) * u, -(-W // u) * u
    if (Hp, Wp) != (H, W):
        rgb = F.pad(rgb, (0, Wp - W, 0, Hp - H), mode="replicate")
    base = F.interpolate(dn, size=(Hp, Wp), mode="bicubic", align_corners=False).clamp(0, 1.5)
    grid = (Hp // u, Wp // u)
    lr_grid = torch.cat([F.interpolate(dn, size=grid, mode="bilinear", align_corners=False),
                         F.interpolate(m, size=grid, mode="bilinear", align_corners=False)], 1)
    support = F.interpolate(m, size=(H, W), mode="bilinear", align_corners=False) >= 0.5
    return Prepared(torch.cat([dn, m], 1), rgb, base, lr_grid, scale, support, (H, W))

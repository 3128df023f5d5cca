"""Input conditioning shared by training and inference: normalisation, hole filling, padding.

Normalisation (documented, per frame): s = max of the valid LR depth (metres, >= 0.1) without isolated far
spikes (``robust_max``); the networks see d / s in [0, 1] and the output is multiplied back by s, so any metric
range works (a 0.3 m desk or a 40 m hall).
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


SPIKE_FACTOR = 2.0


def robust_max(d: torch.Tensor, m: torch.Tensor, factor: float = SPIKE_FACTOR) -> torch.Tensor:
    """(B,1,1,1) the farthest valid depth, not counting isolated far spikes: valid pixels with at least 3 valid
    8-neighbours that are more than ``factor`` times as far as every one of them (a multipath or saturated return,
    e.g. one 60 m pixel in a 4 m room, would otherwise squeeze the whole scene into a few % of the range the
    networks work in). Pixels among holes (fewer valid neighbours: too little evidence) always count. Equal to the
    plain max on every real frame in ../shared/data and the bundled sample (tested). d, m: (B,1,h,w), d = 0 where
    m = 0."""
    h, w = d.shape[-2:]
    dp, mp = F.pad(d, (1, 1, 1, 1)), F.pad(m, (1, 1, 1, 1))
    shifts = [(1 + dy, 1 + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    nb = torch.stack([dp[..., y:y + h, x:x + w] for y, x in shifts]).amax(0)
    n_valid = torch.stack([mp[..., y:y + h, x:x + w] for y, x in shifts]).sum(0)
    spike = (n_valid >= 3) & (d > factor * nb)
    keep = (m > 0) & ~spike
    return torch.where(keep, d, torch.zeros_like(d)).amax(dim=(1, 2, 3), keepdim=True)


def resample(x: torch.Tensor, size: tuple[int, int], extent_in: tuple[float, float] = (1.0, 1.0),
             extent_out: tuple[float, float] = (1.0, 1.0)) -> torch.Tensor:
    """Bilinear resampling between grids that cover different parts of the padded canvas.

    The colour is padded (bottom/right) to multiples of u, so the working grid spans the padded canvas (Hp, Wp)
    while the LR depth spans only the image (H, W): its extent is (H/Hp, W/Wp) of the canvas. x (B,C,h,w) covers
    ``extent_in`` (fractions of the canvas, from the top-left); the result (B,C,*size) covers ``extent_out``.
    Cells outside x's extent take its border value. Equal extents: plain ``F.interpolate`` (align_corners=False).
    """
    if tuple(extent_in) == tuple(extent_out):
        return x if x.shape[-2:] == tuple(size) else F.interpolate(x, size=size, mode="bilinear",
                                                                   align_corners=False)
    axes = []
    for n, fi, fo in zip(size, extent_in, extent_out):
        c = (torch.arange(n, device=x.device, dtype=torch.float32) + 0.5) / n * fo   # cell centres, canvas units
        axes.append(2 * c / fi - 1)                                                     # x's normalised coords
    gy, gx = torch.meshgrid(*axes, indexing="ij")
    grid = torch.stack([gx, gy], -1)[None].expand(x.shape[0], -1, -1, -1).to(x.dtype)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


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
    extent:    (H/Hp, W/Wp): the part of the padded canvas that the image (and the LR depth) covers
    """

    lr: torch.Tensor
    rgb: torch.Tensor
    base: torch.Tensor
    lr_grid: torch.Tensor
    scale: torch.Tensor
    support: torch.Tensor
    hw: tuple[int, int]

    @property
    def extent(self) -> tuple[float, float]:
        return self.hw[0] / self.rgb.shape[-2], self.hw[1] / self.rgb.shape[-1]


def prepare(depth_lr: torch.Tensor, rgb: torch.Tensor, u: int) -> Prepared:
    """depth_lr (B,1,h,w) metres, 0/NaN/negative = invalid; rgb (B,3,H,W) in [0,1]."""
    d = torch.nan_to_num(depth_lr.float(), nan=0.0, posinf=0.0, neginf=0.0)
    m = (d > 0).float()
    d = d * m
    scale = robust_max(d, m).clamp_min(0.1)
    dn = fill_holes((d / scale).clamp(max=1.0), m)   # a spike beyond s reads as s (as far as the scene goes)
    H, W = rgb.shape[-2:]
    Hp, Wp = -(-H // u) * u, -(-W // u) * u
    if (Hp, Wp) != (H, W):
        rgb = F.pad(rgb, (0, Wp - W, 0, Hp - H), mode="replicate")
    # the LR depth spans the image (H, W), not the padded canvas: upsample to (H, W), then pad like the colour
    base = F.interpolate(dn, size=(H, W), mode="bicubic", align_corners=False).clamp(0, 1.5)
    if (Hp, Wp) != (H, W):
        base = F.pad(base, (0, Wp - W, 0, Hp - H), mode="replicate")
    lr_grid = resample(torch.cat([dn, m], 1), (Hp // u, Wp // u), extent_in=(H / Hp, W / Wp))
    support = F.interpolate(m, size=(H, W), mode="bilinear", align_corners=False) >= 0.5
    return Prepared(torch.cat([dn, m], 1), rgb, base, lr_grid, scale, support, (H, W))

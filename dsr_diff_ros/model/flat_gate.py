"""Planar-region gate: no colour-driven detail where the LR depth is a plane (a departure from the paper, see
docs/model.md, "No texture in flat regions").

Where the LR depth is locally planar, the bicubic base is already exact, and whatever the network adds there can
only come from the colour (texture copied into the depth). The gate measures, per LR pixel, how far the depth is
from its 3x3 neighbourhood mean (zero on any plane; the border is extended linearly, so a plane stays a plane
there), takes the largest value within one LR pixel, and maps it to [0, 1] by the threshold ``tau`` times the
local depth (a relative deviation, as sensor precision is: the same gate for a desk at 0.5 m and a wall at 5 m in
one frame). The network's change to the base is multiplied by it: near depth edges and curved surfaces it passes
unchanged, on planes it fades to zero. Below x4 the threshold grows (``threshold``): the bicubic base is better
there, so what the network adds on a near-plane matters more.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .preprocess import resample


def planarity_gate(depth_lr: torch.Tensor, size: tuple[int, int], tau: float,
                   extent: tuple[float, float] = (1.0, 1.0)) -> torch.Tensor:
    """depth_lr (B,1,h,w) normalised, hole-filled -> gate (B,1,*size) in [0, 1] on the output grid (which the LR
    grid covers ``extent`` of, as in ``preprocess.resample``). tau: relative deviation from the local plane at
    which the gate is fully open. An LR grid under 2 pixels in either direction gives ones."""
    if min(depth_lr.shape[-2:]) < 2:   # no neighbourhood to judge planarity by: leave the network alone
        return torch.ones(*depth_lr.shape[:2], *size, dtype=depth_lr.dtype, device=depth_lr.device)
    pad = (1, 1, 1, 1)
    lin = 2 * F.pad(depth_lr, pad, mode="replicate") - F.pad(depth_lr, pad, mode="reflect")   # linear extrapolation
    dev = (depth_lr - F.avg_pool2d(lin, 3, stride=1)).abs()
    dev = F.max_pool2d(F.pad(dev, pad, mode="replicate"), 3, stride=1)
    return resample((dev / (tau * depth_lr.clamp_min(0.05))).clamp(0, 1), size, extent_in=extent)


def threshold(tau: float, ratio: float) -> float:
    """The gate's threshold at an upscaling ratio (output / input size): ``tau`` from x4 up, ``tau * (4 / ratio)^3``
    below (x2: 8 tau). Chosen on the tune split, where it lowers the clean x2 RMSE by 1.5-2.3 % and the worst
    frame's from 1.09-1.18x to 1.01-1.06x bicubic, and leaves x4 and above unchanged (docs/model.md)."""
    return tau * max(1.0, 4.0 / ratio) ** 3

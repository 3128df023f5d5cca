"""HR refinement: a light full-resolution stage after DSRN (a departure from the paper, see docs/model.md).

DSRN works on the working grid (H/u, W/u) and emits u x u sub-pixel values per cell, so a depth edge can only be
placed as well as 32 features per cell encode it. This stage sees the colour at full resolution and moves depth
edges onto colour edges within +-3 px (three 3x3 convs). Its output layer starts at zero: an added refinement
begins as the identity, so it can be fitted on top of trained weights.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class HRRefine(nn.Module):
    """depth (B,1,H,W) normalised, rgb (B,3,H,W) in [0,1] -> refined depth (B,1,H,W) = depth + residual."""

    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(4, ch, 3, padding=1), nn.LeakyReLU(0.1, True),
                                  nn.Conv2d(ch, ch, 3, padding=1), nn.LeakyReLU(0.1, True),
                                  nn.Conv2d(ch, 1, 3, padding=1))
        nn.init.zeros_(self.body[-1].weight)
        nn.init.zeros_(self.body[-1].bias)

    def forward(self, depth: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
        return depth + self.body(torch.cat([depth, rgb.to(depth.dtype)], 1))

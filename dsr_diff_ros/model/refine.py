"""HR refinement: a light full-resolution stage after DSRN (a departure from the paper, see docs/model.md).

DSRN works on the working grid (H/u, W/u) and emits u x u sub-pixel values per cell, so a depth edge can only be
placed as well as 32 features per cell encode it. This stage sees the colour at full resolution and moves depth
edges onto colour edges within +-3 px (three 3x3 convs). With ``feat_ch`` > 0 it also reads DSRN's last features
(a 1x1 projection on the working grid, pixel-shuffled to ``feat_ch`` channels at full resolution), so it knows
what DSRN knows about the region (noise, whether an edge is there) instead of judging from 7x7 pixels.
Its output layer, and the feature input, start at zero: an added refinement (or an added feature input) begins
as the identity, so it can be fitted on top of trained weights.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class HRRefine(nn.Module):
    """depth (B,1,H,W) normalised, rgb (B,3,H,W) in [0,1], feat (B,dim,H/u,W/u) DSRN's features (when feat_ch > 0)
    -> refined depth (B,1,H,W) = depth + residual."""

    def __init__(self, ch: int, feat_ch: int = 0, dim: int = 32, u: int = 4):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(4, ch, 3, padding=1), nn.LeakyReLU(0.1, True),
                                  nn.Conv2d(ch, ch, 3, padding=1), nn.LeakyReLU(0.1, True),
                                  nn.Conv2d(ch, 1, 3, padding=1))
        nn.init.zeros_(self.body[-1].weight)
        nn.init.zeros_(self.body[-1].bias)
        self.u = u
        if feat_ch > 0:
            self.feat_proj = nn.Conv2d(dim, feat_ch * u * u, 1)
            self.feat_in = nn.Conv2d(feat_ch, ch, 3, padding=1)
            nn.init.zeros_(self.feat_in.weight)
            nn.init.zeros_(self.feat_in.bias)
        else:
            self.feat_proj = self.feat_in = None

    def forward(self, depth: torch.Tensor, rgb: torch.Tensor, feat: torch.Tensor | None = None) -> torch.Tensor:
        h = self.body[0](torch.cat([depth, rgb.to(depth.dtype)], 1))
        if self.feat_in is not None:
            h = h + self.feat_in(F.pixel_shuffle(self.feat_proj(feat), self.u))
        return depth + self.body[1:](h)

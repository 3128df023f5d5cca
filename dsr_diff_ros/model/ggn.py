"""GGN: guidance generation network (stage 1; needs the HR depth, so training/oracle only)."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig
from .encoder import PriorEncoder


class GGN(nn.Module):
    """HR depth + HR colour + LR depth -> guidance z.

    Inputs on the working grid (h', w') = (H/u, W/u):
      depth_hr (B,1,H,W) normalised, rgb (B,3,H,W) in [0,1], lr_feat (B,2,h',w') = [LR depth on the grid, valid mask].
    Output: z (B, z_dim).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        u = cfg.unshuffle
        self.u = u
        self.enc = PriorEncoder(u * u * 4 + 2, cfg.ggn_channels, cfg.z_dim)

    def forward(self, depth_hr: torch.Tensor, rgb: torch.Tensor, lr_feat: torch.Tensor) -> torch.Tensor:
        x = torch.cat([F.pixel_unshuffle(depth_hr, self.u), F.pixel_unshuffle(rgb, self.u), lr_feat], 1)
        return self.enc(x)

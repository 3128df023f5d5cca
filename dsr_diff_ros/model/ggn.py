"""GGN: guidance generation network (stage 1; needs the HR depth, so training/oracle only)."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig
from .encoder import PriorEncoder


class GGN(nn.Module):
    """HR depth + HR colour + LR depth -> spatial guidance prior z.

    depth_hr (B,1,H,W) normalised, rgb (B,3,H,W) in [0,1] (H, W multiples of u),
    lr_feat (B,2,H/u,W/u) = [LR depth on the working grid, valid mask].
    Output: z (B, z_ch, ceil(H/(u*z_down)), ceil(W/(u*z_down))) in (-1, 1) (tanh: a bounded prior keeps the
    diffusion's noise scale meaningful).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.u = cfg.unshuffle
        self.enc = PriorEncoder(self.u ** 2 * 4 + 2, cfg.ggn_channels, cfg.z_ch, cfg.z_down)

    def forward(self, depth_hr: torch.Tensor, rgb: torch.Tensor, lr_feat: torch.Tensor) -> torch.Tensor:
        # the HR detail the LR grid lacks: HR depth minus its working-grid upsampling, x10 (edges are a few
        # per cent of the normalised range: scaled up, the encoder sees them from the first iteration)
        up = F.interpolate(lr_feat[:, :1], size=depth_hr.shape[-2:], mode="bilinear", align_corners=False)
        detail = 10.0 * (depth_hr - up)
        x = torch.cat([F.pixel_unshuffle(detail, self.u), F.pixel_unshuffle(rgb, self.u), lr_feat], 1)
        return torch.tanh(self.enc(x))

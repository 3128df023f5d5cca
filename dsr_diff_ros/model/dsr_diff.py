"""DSR-Diff: GGN + DSRN (with FFM) + GRN, and the two ways of obtaining the guidance z."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig
from .dsrn import DSRN
from .ggn import GGN
from .grn import GRN
from .preprocess import Prepared, prepare


class DSRDiff(nn.Module):
    """Colour-guided depth super-resolution with a diffusion-recovered guidance vector.

    forward(depth_lr (B,1,h,w) metres, rgb (B,3,H,W) [0,1]) -> depth (B,1,H,W) metres (0 where unsupported
    only if the caller masks it; the network itself predicts everywhere).
    Guidance: ``depth_hr`` given -> GGN (stage 1 / oracle); otherwise GRN with ``steps`` reverse steps.
    """

    def __init__(self, cfg: ModelConfig | None = None):
        super().__init__()
        self.cfg = cfg or ModelConfig()
        self.ggn, self.dsrn, self.grn = GGN(self.cfg), DSRN(self.cfg), GRN(self.cfg)

    def guidance_gt(self, p: Prepared, depth_hr: torch.Tensor) -> torch.Tensor:
        """Stage-1 guidance z from the HR depth (B,1,H,W) metres."""
        hr = torch.nan_to_num(depth_hr.float(), nan=0.0).clamp_min(0) / p.scale
        H, W = p.hw
        Hp, Wp = p.rgb.shape[-2:]
        if (Hp, Wp) != (H, W):
            hr = F.pad(hr, (0, Wp - W, 0, Hp - H), mode="replicate")
        return self.ggn(hr, p.rgb, p.lr_grid)

    def reconstruct(self, p: Prepared, z: torch.Tensor) -> torch.Tensor:
        """Normalised HR depth (B,1,H,W) from prepared inputs and guidance."""
        base_grid = F.avg_pool2d(p.base, self.cfg.unshuffle)
        out = p.base + self.dsrn(p.lr, p.rgb, base_grid, z)
        H, W = p.hw
        return out[..., :H, :W]

    def forward(self, depth_lr: torch.Tensor, rgb: torch.Tensor, steps: int | None = None,
                depth_hr: torch.Tensor | None = None) -> torch.Tensor:
        p = prepare(depth_lr, rgb, self.cfg.unshuffle)
        if depth_hr is not None:
            z = self.guidance_gt(p, depth_hr)
        else:
            z = self.grn(p.rgb, p.lr_grid, steps or self.cfg.timesteps)
        return self.to_metres(p, self.reconstruct(p, z))

    @staticmethod
    def to_metres(p: Prepared, out: torch.Tensor) -> torch.Tensor:
        """Normalised output -> metres, limited to [0, farthest valid input depth] (the normalised range [0, 1]):
        super-resolution must not invent depth beyond what the sensor saw (it cost nothing on the evaluation)."""
        return out.float().clamp(0, 1) * p.scale

"""GRN: guidance recovery network (stage 2). Recovers z from what exists at run time (LR depth + colour)."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig
from .diffusion import LatentDiffusion
from .encoder import PriorEncoder


class Denoiser(nn.Module):
    """MLP over [c (z_dim), t/T (1), z_t (z_dim)] -> z0 (B, z_dim)."""

    def __init__(self, z_dim: int, layers: int):
        super().__init__()
        mods: list[nn.Module] = [nn.Linear(2 * z_dim + 1, z_dim), nn.LeakyReLU(0.1, True)]
        for _ in range(layers - 1):
            mods += [nn.Linear(z_dim, z_dim), nn.LeakyReLU(0.1, True)]
        mods.append(nn.Linear(z_dim, z_dim))
        self.net = nn.Sequential(*mods)

    def forward(self, c: torch.Tensor, t: torch.Tensor, z_t: torch.Tensor, T: int) -> torch.Tensor:
        return self.net(torch.cat([c, t.float().unsqueeze(1) / T, z_t], 1))


class GRN(nn.Module):
    """Condition encoder (colour + LR depth on the working grid, at half its resolution) + denoiser + sampler.

    rgb (B,3,H,W) in [0,1], lr_feat (B,2,H/u,W/u) -> z (B, z_dim).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.u, self.T = cfg.unshuffle, cfg.timesteps
        self.cond = PriorEncoder(3 * self.u ** 2 + 2, cfg.grn_channels, cfg.z_dim, n_res=1, stem_stride=2)
        self.denoiser = Denoiser(cfg.z_dim, cfg.denoiser_layers)
        self.diffusion = LatentDiffusion(cfg.timesteps, cfg.beta_start, cfg.beta_end)
        g = torch.Generator().manual_seed(0)
        self.register_buffer("z_T", torch.randn(1, cfg.z_dim, generator=g), persistent=False)

    def condition(self, rgb: torch.Tensor, lr_feat: torch.Tensor) -> torch.Tensor:
        return self.cond(torch.cat([F.pixel_unshuffle(rgb, self.u), lr_feat], 1))

    def forward(self, rgb: torch.Tensor, lr_feat: torch.Tensor, steps: int,
                z_T: torch.Tensor | None = None) -> torch.Tensor:
        """Sample z with ``steps`` reverse steps; z_T defaults to a fixed noise vector (deterministic)."""
        c = self.condition(rgb, lr_feat)
        if z_T is None:
            z_T = self.z_T.to(c.dtype).expand(c.shape[0], -1)
        return self.diffusion.sample(lambda z, t: self.denoiser(c, t, z, self.T), z_T, steps)

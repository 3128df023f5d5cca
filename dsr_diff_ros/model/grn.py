"""GRN: guidance recovery network (stage 2). Recovers the prior z from what exists at run time (LR depth + colour)
with a few-step conditional diffusion on z's coarse grid."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .blocks import ResBlock
from .config import ModelConfig
from .diffusion import LatentDiffusion
from .encoder import PriorEncoder


class Denoiser(nn.Module):
    """Conditional denoiser: [c (B,ch,h,w), z_t (B,z_ch,h,w), t/T as a constant map] -> z0 (B,z_ch,h,w) in (-1,1).

    A small conv net on the prior's grid (DiffIR's denoiser is an MLP over a vector; the prior is a map here)."""

    def __init__(self, z_ch: int, ch: int, blocks: int):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(ch + z_ch + 1, ch, 3, padding=1), nn.LeakyReLU(0.1, True),
                                 *[ResBlock(ch) for _ in range(blocks)], nn.Conv2d(ch, z_ch, 3, padding=1))

    def forward(self, c: torch.Tensor, t: torch.Tensor, z_t: torch.Tensor, T: int) -> torch.Tensor:
        tmap = (t.to(c.dtype) / T).view(-1, 1, 1, 1).expand(-1, 1, *c.shape[-2:])
        return torch.tanh(self.net(torch.cat([c, z_t, tmap], 1)))


class GRN(nn.Module):
    """Condition encoder (colour + LR depth on the working grid) + conditional denoiser + T-step sampler.

    rgb (B,3,H,W) in [0,1], lr_feat (B,2,H/u,W/u) -> z (B, z_ch, ceil(H/(u*z_down)), ceil(W/(u*z_down))).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.u, self.T = cfg.unshuffle, cfg.timesteps
        self.cond = PriorEncoder(3 * self.u ** 2 + 2, cfg.grn_channels, cfg.grn_channels, cfg.z_down, n_res=1)
        self.denoiser = Denoiser(cfg.z_ch, cfg.grn_channels, cfg.denoiser_blocks)
        self.diffusion = LatentDiffusion(cfg.timesteps, cfg.beta_start, cfg.beta_end)
        self.z_ch = cfg.z_ch

    def condition(self, rgb: torch.Tensor, lr_feat: torch.Tensor) -> torch.Tensor:
        """(B, grn_channels, h_z, w_z) condition features on the prior's grid."""
        return F.leaky_relu(self.cond(torch.cat([F.pixel_unshuffle(rgb, self.u), lr_feat], 1)), 0.1)

    def initial_noise(self, c: torch.Tensor, seed: int | None = None) -> torch.Tensor:
        """z_T ~ N(0, I) of the prior's shape, from a CPU generator seeded with ``seed`` (None: 0), so the same
        input gives the same output on every device. Every frame of a batch gets the same draw, so a frame's
        output does not depend on its place in the batch (the self-ensemble batches its copies on CUDA)."""
        g = torch.Generator().manual_seed(0 if seed is None else int(seed))
        z = torch.randn((1, self.z_ch, *c.shape[-2:]), generator=g)
        return z.expand(c.shape[0], -1, -1, -1).to(c.device, c.dtype)

    def forward(self, rgb: torch.Tensor, lr_feat: torch.Tensor, steps: int, z_T: torch.Tensor | None = None,
                seed: int | None = None) -> torch.Tensor:
        """Sample z with ``steps`` reverse steps from z_T (default: seeded noise, deterministic)."""
        c = self.condition(rgb, lr_feat)
        if z_T is None:
            z_T = self.initial_noise(c, seed)
        return self.diffusion.sample(lambda z, t: self.denoiser(c, t, z, self.T), z_T, steps)

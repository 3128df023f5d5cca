"""The few-step latent diffusion of GRN: schedule, forward noising, deterministic sub-sequence sampler."""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn


class LatentDiffusion(nn.Module):
    """T-step diffusion over a latent z (any shape, batch first), x0-parameterised.

    Schedule: beta = linspace(sqrt(beta_start), sqrt(beta_end), T)^2 (DiffIR's "linear").
    Sampling with k <= T steps visits an evenly spaced sub-sequence of t = T-1 .. 0 (DDIM, eta = 0).
    """

    def __init__(self, timesteps: int, beta_start: float, beta_end: float):
        super().__init__()
        betas = torch.linspace(beta_start ** 0.5, beta_end ** 0.5, timesteps, dtype=torch.float64) ** 2
        self.T = timesteps
        self.register_buffer("alphas_cumprod", torch.cumprod(1 - betas, 0).float(), persistent=False)

    def q_sample(self, z0: torch.Tensor, t: int, noise: torch.Tensor) -> torch.Tensor:
        """z_t = sqrt(ab_t) z0 + sqrt(1 - ab_t) noise."""
        ab = self.alphas_cumprod[t]
        return ab.sqrt() * z0 + (1 - ab).sqrt() * noise

    def timesteps_for(self, steps: int) -> list[int]:
        if not 1 <= steps <= self.T:
            raise ValueError(f"steps must be in 1..{self.T}, got {steps}")
        if steps == 1:
            return [self.T - 1]
        return sorted({round(self.T - 1 - i * (self.T - 1) / (steps - 1)) for i in range(steps)}, reverse=True)

    def sample(self, denoise: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], z_T: torch.Tensor,
               steps: int) -> torch.Tensor:
        """Run ``steps`` reverse steps from z_T; ``denoise(z_t, t_vec)`` predicts z0. Returns z0 (shape of z_T)."""
        ts = self.timesteps_for(steps)
        z = z_T
        for i, t in enumerate(ts):
            tv = torch.full((z.shape[0],), t, device=z.device, dtype=torch.long)
            z0 = denoise(z, tv)
            if i + 1 == len(ts):
                return z0
            ab, ab_next = self.alphas_cumprod[t], self.alphas_cumprod[ts[i + 1]]
            eps = (z - ab.sqrt() * z0) / (1 - ab).sqrt()
            z = ab_next.sqrt() * z0 + (1 - ab_next).sqrt() * eps
        return z

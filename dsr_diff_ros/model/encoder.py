"""Compact prior encoder shared by GGN (stage 1) and GRN's condition encoder (CPEN in DiffIR)."""
from __future__ import annotations

import torch
import torch.nn as nn

from .blocks import ResBlock


class PriorEncoder(nn.Module):
    """(B, in_ch, h, w) -> (B, z_dim): conv, residual blocks, strided convs, global average pool, MLP."""

    def __init__(self, in_ch: int, ch: int, z_dim: int, n_res: int = 2, stem_stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, ch, 3, stride=stem_stride, padding=1), nn.LeakyReLU(0.1, True),
            *[ResBlock(ch) for _ in range(n_res)],
            nn.Conv2d(ch, ch * 2, 3, stride=2, padding=1), nn.LeakyReLU(0.1, True),
            nn.Conv2d(ch * 2, ch * 2, 3, stride=2, padding=1), nn.LeakyReLU(0.1, True),
            nn.Conv2d(ch * 2, z_dim, 3, padding=1), nn.LeakyReLU(0.1, True),
        )
        self.mlp = nn.Sequential(nn.Linear(z_dim, z_dim), nn.LeakyReLU(0.1, True), nn.Linear(z_dim, z_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.body(x).mean(dim=(2, 3)))

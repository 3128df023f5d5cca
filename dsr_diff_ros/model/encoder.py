"""Compact spatial prior encoder shared by GGN (stage 1) and GRN's condition encoder (CPEN in DiffIR)."""
from __future__ import annotations

import torch
import torch.nn as nn

from .blocks import ResBlock


class PriorEncoder(nn.Module):
    """(B, in_ch, h, w) on the working grid -> (B, out_ch, ceil(h/down), ceil(w/down)) on the prior's grid.

    conv3x3 + LeakyReLU, residual blocks, a strided conv to the prior's grid, a residual block, conv3x3 out.
    DiffIR pools to a 256-d vector; here the prior stays spatial (a few channels on a coarse grid) so it can say
    *where* edges lie, which a global vector cannot (the first implementation's vector collapsed to a constant).
    """

    def __init__(self, in_ch: int, ch: int, out_ch: int, down: int = 2, n_res: int = 2):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, ch, 3, padding=1), nn.LeakyReLU(0.1, True),
            *[ResBlock(ch) for _ in range(n_res)],
            nn.Conv2d(ch, ch, 3, stride=down, padding=1), nn.LeakyReLU(0.1, True),
            ResBlock(ch),
            nn.Conv2d(ch, out_ch, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

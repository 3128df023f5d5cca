"""DSRN: depth super-resolution network (DFE + CFE + FFM + reconstruction), guided by z."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .blocks import Group
from .config import ModelConfig


class DFE(nn.Module):
    """Depth feature extraction on the native LR grid: (B,2,h,w) [depth, valid] -> (B,dim,h,w)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.embed = nn.Conv2d(2, cfg.dim, 3, padding=1)
        self.group = Group(cfg.dfe_blocks, cfg.dim, cfg.heads, cfg.ffn_factor, cfg.z_dim)

    def forward(self, lr: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.group(self.embed(lr), z)


class CFE(nn.Module):
    """Colour feature extraction on the working grid: rgb (B,3,H,W) -> (B,dim,H/u,W/u) via pixel-unshuffle."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.u = cfg.unshuffle
        self.embed = nn.Conv2d(3 * self.u * self.u, cfg.dim, 3, padding=1)
        self.group = Group(cfg.cfe_blocks, cfg.dim, cfg.heads, cfg.ffn_factor, cfg.z_dim)

    def forward(self, rgb: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.group(self.embed(F.pixel_unshuffle(rgb, self.u)), z)


class FFM(nn.Module):
    """Feature fusion module: conv on colour features, depth features upsampled to their grid, element-wise
    product (``fusion="multiply"``, the paper) or concatenation (``"concat"``, ablation).

    depth (B,dim,h,w), colour (B,dim,h',w') -> (B,dim,h',w'). The depth path is kept as a residual.
    """

    def __init__(self, dim: int, fusion: str = "multiply"):
        super().__init__()
        if fusion not in ("multiply", "concat"):
            raise ValueError(f"fusion must be 'multiply' or 'concat', got {fusion!r}")
        self.fusion = fusion
        self.color_conv = nn.Conv2d(dim, dim, 3, padding=1)
        self.out = nn.Conv2d(dim * (2 if fusion == "concat" else 1), dim, 1)

    def forward(self, depth_feat: torch.Tensor, color_feat: torch.Tensor) -> torch.Tensor:
        d = F.interpolate(depth_feat, size=color_feat.shape[-2:], mode="bilinear", align_corners=False)
        c = self.color_conv(color_feat)
        fused = d * c if self.fusion == "multiply" else torch.cat([d, c], 1)
        return d + self.out(fused)


class DSRN(nn.Module):
    """Reconstructs the HR depth residual.

    lr (B,2,h,w) [normalised filled LR depth, valid mask], rgb (B,3,H,W) in [0,1] with H, W multiples of u,
    z (B,z_dim) -> residual (B,1,H,W) to add to a cheap upsampling of the LR depth.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.dfe, self.cfe = DFE(cfg), CFE(cfg)
        self.ffm = FFM(cfg.dim, cfg.fusion)
        self.base_embed = nn.Conv2d(1, cfg.dim, 3, padding=1)
        self.fuse = Group(cfg.fuse_blocks, cfg.dim, cfg.heads, cfg.ffn_factor, cfg.z_dim)
        self.head = nn.Conv2d(cfg.dim, cfg.unshuffle ** 2, 3, padding=1)
        self.u = cfg.unshuffle
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, lr: torch.Tensor, rgb: torch.Tensor, base_grid: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """base_grid: (B,1,H/u,W/u) the upsampled LR depth on the working grid (positional depth cue)."""
        x = self.ffm(self.dfe(lr, z), self.cfe(rgb, z)) + self.base_embed(base_grid)
        return F.pixel_shuffle(self.head(self.fuse(x, z)), self.u)

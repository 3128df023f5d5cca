"""DSRN: depth super-resolution network (DFE + CFE + FFM + reconstruction), guided by the spatial prior z."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .blocks import Group, resize_to
from .config import ModelConfig
from .degradation import CHANNELS as DEG_CHANNELS, degradation_maps
from .preprocess import resample


class DFE(nn.Module):
    """Depth feature extraction on the native LR grid: (B,2,h,w) [depth, valid], prior embedding -> (B,dim,h,w)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.embed = nn.Conv2d(2, cfg.dim, 3, padding=1)
        self.group = Group(cfg.dfe_blocks, cfg.dim, cfg.heads, cfg.ffn_factor, cfg.z_embed)

    def forward(self, lr: torch.Tensor, e: torch.Tensor, extent: tuple[float, float] = (1.0, 1.0)) -> torch.Tensor:
        """e (B,z_embed,h',w') spans the padded canvas; the LR grid spans ``extent`` of it."""
        return self.group(self.embed(lr), resample(e, lr.shape[-2:], extent_out=extent))


class CFE(nn.Module):
    """Colour feature extraction on the working grid: rgb (B,3,H,W) -> (B,dim,H/u,W/u) via pixel-unshuffle."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.u = cfg.unshuffle
        self.embed = nn.Conv2d(3 * self.u * self.u, cfg.dim, 3, padding=1)
        self.group = Group(cfg.cfe_blocks, cfg.dim, cfg.heads, cfg.ffn_factor, cfg.z_embed)

    def forward(self, rgb: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        return self.group(self.embed(F.pixel_unshuffle(rgb, self.u)), e)


class FFM(nn.Module):
    """Feature fusion module: conv on colour features, depth features upsampled to their grid, element-wise
    product (``fusion="multiply"``, the paper) or concatenation (``"concat"``, ablation).

    depth (B,dim,h,w) on the LR grid (spanning ``extent`` of the padded canvas), colour (B,dim,h',w') on the
    working grid -> (B,dim,h',w'). The depth path is kept as a residual.
    """

    def __init__(self, dim: int, fusion: str = "multiply"):
        super().__init__()
        if fusion not in ("multiply", "concat"):
            raise ValueError(f"fusion must be 'multiply' or 'concat', got {fusion!r}")
        self.fusion = fusion
        self.color_conv = nn.Conv2d(dim, dim, 3, padding=1)
        self.out = nn.Conv2d(dim * (2 if fusion == "concat" else 1), dim, 1)

    def forward(self, depth_feat: torch.Tensor, color_feat: torch.Tensor,
                extent: tuple[float, float] = (1.0, 1.0)) -> torch.Tensor:
        d = resample(depth_feat, color_feat.shape[-2:], extent_in=extent)
        c = self.color_conv(color_feat)
        fused = d * c if self.fusion == "multiply" else torch.cat([d, c], 1)
        return d + self.out(fused)


class DSRN(nn.Module):
    """Reconstructs the HR depth residual (and returns its last features).

    lr (B,2,h,w) [normalised filled LR depth, valid mask], rgb (B,3,H,W) in [0,1] with H, W multiples of u,
    z (B,z_ch,h_z,w_z) the guidance prior -> residual (B,1,H,W) to add to a cheap upsampling of the LR depth.
    The prior is upsampled to the working grid and embedded once (two 3x3 convs); every group's modulations
    read that embedding, and it is also added to the fused features (1x1 conv): a direct path that makes the
    prior matter from the first iteration. With ``deg_ch`` the measured noise maps of the LR depth
    and the upscaling ratio (``degradation.degradation_maps``) join the prior before the embedding.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.dfe, self.cfe = DFE(cfg), CFE(cfg)
        self.ffm = FFM(cfg.dim, cfg.fusion)
        self.base_embed = nn.Conv2d(1, cfg.dim, 3, padding=1)
        self.fuse = Group(cfg.fuse_blocks, cfg.dim, cfg.heads, cfg.ffn_factor, cfg.z_embed)
        self.head = nn.Conv2d(cfg.dim, cfg.unshuffle ** 2, 3, padding=1)
        if cfg.deg_ch not in (0, DEG_CHANNELS):
            raise ValueError(f"deg_ch must be 0 or {DEG_CHANNELS}, got {cfg.deg_ch}")
        self.deg_ch = cfg.deg_ch
        self.z_embed = nn.Sequential(nn.Conv2d(cfg.z_ch + cfg.deg_ch, cfg.z_embed, 3, padding=1),
                                     nn.LeakyReLU(0.1, True),
                                     nn.Conv2d(cfg.z_embed, cfg.z_embed, 3, padding=1), nn.LeakyReLU(0.1, True))
        self.z_inject = nn.Conv2d(cfg.z_embed, cfg.dim, 1)
        self.u = cfg.unshuffle
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, lr: torch.Tensor, rgb: torch.Tensor, base_grid: torch.Tensor, z: torch.Tensor,
                extent: tuple[float, float] = (1.0, 1.0)) -> tuple[torch.Tensor, torch.Tensor]:
        """base_grid: (B,1,H/u,W/u) the upsampled LR depth on the working grid (positional depth cue).
        extent: the part of the padded canvas (rgb) that the image and the LR grid cover (``Prepared.extent``).
        Returns the residual (B,1,H,W) and the last features (B,dim,H/u,W/u) (for the refinement)."""
        g = resize_to(z, base_grid)
        if self.deg_ch:
            maps = degradation_maps(lr, extent[0] * rgb.shape[-2])
            g = torch.cat([g, resample(maps, base_grid.shape[-2:], extent_in=extent).to(g.dtype)], 1)
        e = self.z_embed(g)
        x = self.ffm(self.dfe(lr, e, extent), self.cfe(rgb, e), extent) + self.base_embed(base_grid) + self.z_inject(e)
        feat = self.fuse(x, e)
        return F.pixel_shuffle(self.head(feat), self.u), feat

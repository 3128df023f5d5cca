"""Transformer building blocks (Restormer/DiffIR style) modulated by the spatial guidance prior.

All feature maps are (B, C, H, W); the prior embedding e is (B, z_embed, h, w) on any grid (resized to the
features' grid once per group).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .preprocess import resample


def resize_to(e: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """e resampled (bilinear) to x's spatial size, both on the same extent; unchanged when it already matches."""
    return resample(e, x.shape[-2:])


class LayerNorm2d(nn.Module):
    """LayerNorm over channels at every pixel (with bias). Channels-last input (the Upscaler's) takes the fused
    kernel; the result is the same to ~1e-6."""

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_contiguous(memory_format=torch.channels_last):   # inference: one fused kernel over the NHWC view
            y = F.layer_norm(x.permute(0, 2, 3, 1), x.shape[1:2], self.weight, self.bias, self.eps)
            return y.permute(0, 3, 1, 2)
        mu = x.mean(1, keepdim=True)
        var = (x - mu).pow(2).mean(1, keepdim=True)
        x = (x - mu) * torch.rsqrt(var + self.eps)
        return x * self.weight[:, None, None] + self.bias[:, None, None]


class Modulation(nn.Module):
    """Per-pixel scale and shift from the prior embedding e (same grid as x): x * (1 + s) + b, (s, b) = 1x1 conv(e).

    DiffIR's prior modulation made spatial (SFT). Default (not zero) initialisation of the weights: a zero
    projection gives the prior no gradient at the start, and the first implementation's prior collapsed to a
    constant that way.
    """

    def __init__(self, z_embed: int, dim: int):
        super().__init__()
        self.proj = nn.Conv2d(z_embed, 2 * dim, 1)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        s, b = self.proj(e).chunk(2, dim=1)
        return x * (1 + s) + b


class ChannelAttention(nn.Module):
    """Multi-head transposed (channel) attention: a CxC map per head, cost linear in pixels."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.qkv = nn.Conv2d(dim, dim * 3, 1)
        self.qkv_dw = nn.Conv2d(dim * 3, dim * 3, 3, padding=1, groups=dim * 3)
        self.out = nn.Conv2d(dim, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv_dw(self.qkv(x)).chunk(3, dim=1)
        q = F.normalize(q.reshape(b, self.heads, c // self.heads, h * w), dim=-1)
        k = F.normalize(k.reshape(b, self.heads, c // self.heads, h * w), dim=-1)
        v = v.reshape(b, self.heads, c // self.heads, h * w)
        attn = (q @ k.transpose(-2, -1)) * self.temperature
        return self.out((attn.softmax(-1) @ v).reshape(b, c, h, w))


class GatedFFN(nn.Module):
    """Gated depth-wise feed-forward: 1x1 to 2*hidden, dw 3x3, GELU(x1) * x2, 1x1 back."""

    def __init__(self, dim: int, factor: float):
        super().__init__()
        hidden = int(dim * factor)
        self.inp = nn.Conv2d(dim, hidden * 2, 1)
        self.dw = nn.Conv2d(hidden * 2, hidden * 2, 3, padding=1, groups=hidden * 2)
        self.out = nn.Conv2d(hidden, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = self.dw(self.inp(x)).chunk(2, dim=1)
        return self.out(F.gelu(x1) * x2)


class TransformerBlock(nn.Module):
    """x + Attn(Mod(LN(x), z)); x + FFN(Mod(LN(x), z))."""

    def __init__(self, dim: int, heads: int, ffn_factor: float, z_embed: int):
        super().__init__()
        self.norm1, self.mod1 = LayerNorm2d(dim), Modulation(z_embed, dim)
        self.attn = ChannelAttention(dim, heads)
        self.norm2, self.mod2 = LayerNorm2d(dim), Modulation(z_embed, dim)
        self.ffn = GatedFFN(dim, ffn_factor)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.mod1(self.norm1(x), e))
        return x + self.ffn(self.mod2(self.norm2(x), e))


class Group(nn.Module):
    """A stack of guided transformer blocks with a residual conv (a 'feature-extraction group').

    x (B,dim,h,w), e (B,z_embed,h',w') -> (B,dim,h,w); e is resized (bilinear) to (h, w) once."""

    def __init__(self, n: int, dim: int, heads: int, ffn_factor: float, z_embed: int):
        super().__init__()
        self.blocks = nn.ModuleList(TransformerBlock(dim, heads, ffn_factor, z_embed) for _ in range(n))
        self.tail = nn.Conv2d(dim, dim, 3, padding=1)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        e = resize_to(e, x)
        y = x
        for blk in self.blocks:
            y = blk(y, e)
        return x + self.tail(y)


class ResBlock(nn.Module):
    """conv3x3 - LeakyReLU - conv3x3 + identity (for the prior encoders)."""

    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.LeakyReLU(0.1, True),
                                  nn.Conv2d(ch, ch, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)

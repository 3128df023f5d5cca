"""Measured degradation descriptor: how noisy the LR depth is (locally and over the image) and the upscaling ratio.

A departure from the paper (docs/model.md): the guidance is the learned prior z *plus* these maps, which the
decoder reads through the same prior embedding. Nothing here is learned; it is a robust noise estimate that
tells the decoder whether to trust fine LR detail (clean bicubic protocols) or to smooth (a noisy sensor).

Noise estimate: the 4-neighbour Laplacian of the normalised LR depth is zero on planes and, for i.i.d.
Gaussian noise of sigma, has median |L| = 0.6745 * sqrt(20) * sigma, so sigma = median |L| / 3.02. Medians
(local: ``window`` x ``window`` LR cells; global: the whole image) ignore depth edges and holes (pixels with an
invalid neighbour are left out). Output channels:
    0: local sigma, 1: image sigma   (normalised depth units, i.e. a fraction of the farthest depth; log10-scaled
                                      to about [-1, 1])
    2: upscaling ratio               (log2(H / h) / 4: x2 -> 0.25, x4 -> 0.5, x16 -> 1)
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

CHANNELS = 3
_GAUSS_MEDIAN = 0.6745 * 20 ** 0.5
_FLOOR = 1e-4                      # sigma floor (1e-4 of the range: quantisation of a clean 16-bit map)


def _scaled(sigma: torch.Tensor) -> torch.Tensor:
    """log10 of sigma (floored) mapped to about [-1, 1]: 1e-4 -> -1, 1e-2.5 -> 0, 1e-1 -> 1."""
    return (torch.log10(sigma.clamp_min(0) + _FLOOR) + 2.5) / 1.5


def _laplacian(lr: torch.Tensor) -> torch.Tensor:
    """|4-neighbour Laplacian| of the normalised LR depth, NaN where the pixel or a neighbour is invalid."""
    d, m = lr[:, :1].float(), lr[:, 1:2].float()
    lap = F.conv2d(F.pad(d, (1, 1, 1, 1), mode="replicate"),
                   d.new_tensor([[0, 1, 0], [1, -4, 1], [0, 1, 0]]).view(1, 1, 3, 3)).abs()
    ok = F.max_pool2d(F.pad(1 - m, (1, 1, 1, 1), value=1.0), 3, stride=1) == 0   # pixel and neighbours valid
    return torch.where(ok, lap, torch.full_like(lap, float("nan")))


def _image_median(a: torch.Tensor) -> torch.Tensor:
    """(B,1,h,w) |Laplacian| with NaN gaps -> (B,) its median over each image (0 when all NaN)."""
    return torch.nanmedian(a.reshape(a.shape[0], -1), dim=1).values.nan_to_num(0.0)


def image_noise(lr: torch.Tensor) -> torch.Tensor:
    """lr (B,2,h,w) [normalised hole-filled LR depth, valid mask] -> (B,) the image's noise sigma in normalised
    depth units (a fraction of the farthest valid depth); 0 when no pixel has four valid neighbours."""
    return _image_median(_laplacian(lr)) / _GAUSS_MEDIAN


def degradation_maps(lr: torch.Tensor, out_h: float, window: int = 8) -> torch.Tensor:
    """lr (B,2,h,w) [normalised hole-filled LR depth, valid mask], out_h the output image height (pixels)
    -> (B,3,h,w) [local noise, image noise, upscaling ratio].
    The local median is taken over ``window`` x ``window`` cells every ``window // 2`` cells and interpolated
    (bilinear) back to the LR grid: 4 ms for a 320x240 LR image on one core instead of 60 at every cell."""
    a = _laplacian(lr)
    b, _, h, w = a.shape
    image = _image_median(a).view(b, 1, 1, 1)
    st = max(1, window // 2)
    gh, gw = -(-max(h - window, 0) // st) + 1, -(-max(w - window, 0) // st) + 1    # windows covering the image
    ph, pw = (gh - 1) * st + window - h, (gw - 1) * st + window - w
    patches = F.unfold(F.pad(a, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), value=float("nan")), window,
                       stride=st)                                                  # (B, window^2, gh*gw)
    local = torch.nanmedian(patches, dim=1).values.view(b, 1, gh, gw)
    local = torch.where(torch.isnan(local), image.expand_as(local), local)
    local = F.interpolate(local, size=(h, w), mode="bilinear", align_corners=False)
    sigma = _scaled(torch.cat([local, image.expand_as(local)], 1) / _GAUSS_MEDIAN)
    ratio = torch.full_like(local, math.log2(max(out_h / h, 1.0)) / 4)
    return torch.cat([sigma, ratio], 1).to(lr.dtype)

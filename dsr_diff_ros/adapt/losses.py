"""Self-supervised losses of the adaptation (all in the frame's normalised units: metres / ``Prepared.scale``).

cross_scale:  L1 between the network's output for the twice-degraded input and the real LR depth (valid pixels)
consistency:  the super-resolved depth brought back to the sensor grid by area averaging (the sensor's own
              integrating down-sampling) vs the measured LR depth, L1 on valid pixels
edge:         edge-aware smoothness against the *aligned* colour: |grad d| * exp(-|grad I| / sigma_I); depth may
              only change where the colour (at the estimated offset) changes
regulariser:  L1 to the base model's output on the same input (adaptation cannot drift far)
anchor:       L2-SP, the mean squared distance of the adapted parameters to the base weights (no extra forward)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def masked_l1(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """pred, target, valid (B,1,h,w); mean |pred - target| over valid pixels (0 when none)."""
    v = valid.to(pred.dtype)
    return ((pred - target).abs() * v).sum() / v.sum().clamp_min(1.0)


def cross_scale(norm_out: torch.Tensor, scale: torch.Tensor, target_m: torch.Tensor) -> torch.Tensor:
    """norm_out (B,1,h,w) network output (normalised), scale (B,1,1,1) m/unit, target_m (B,1,h,w) metres, 0 invalid."""
    return masked_l1(norm_out, target_m / scale, target_m > 0)


def consistency(norm_out: torch.Tensor, scale: torch.Tensor, lr_m: torch.Tensor) -> torch.Tensor:
    """norm_out (B,1,H,W), lr_m (B,1,h,w) metres: area-average the output onto the LR grid (any ratio)."""
    down = F.adaptive_avg_pool2d(norm_out, lr_m.shape[-2:])
    return masked_l1(down, lr_m / scale, lr_m > 0)


def _grads(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]


def edge(norm_out: torch.Tensor, rgb_aligned: torch.Tensor, sigma: float = 0.05) -> torch.Tensor:
    """norm_out (B,1,H,W), rgb_aligned (B,3,H,W) [0,1] with the colour/depth offset removed."""
    gx, gy = _grads(norm_out)
    ix, iy = _grads(rgb_aligned.mean(1, keepdim=True))
    return (gx.abs() * torch.exp(-ix.abs() / sigma)).mean() + (gy.abs() * torch.exp(-iy.abs() / sigma)).mean()


def regulariser(norm_out: torch.Tensor, base_norm: torch.Tensor) -> torch.Tensor:
    return (norm_out - base_norm).abs().mean()


def anchor(params: list, base: list) -> torch.Tensor:
    """Mean squared difference between the adapted parameters and their base values (L2-SP)."""
    n = sum(p.numel() for p in params)
    return sum(((p - b) ** 2).sum() for p, b in zip(params, base)) / max(n, 1)

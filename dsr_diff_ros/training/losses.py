"""Losses: L1 on depth over valid ground-truth pixels (normalised units), L1 on the guidance vector."""
from __future__ import annotations

import torch


def masked_l1(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """pred, gt (B,1,H,W); gt <= 0 or non-finite = no ground truth."""
    m = (gt > 0) & torch.isfinite(gt)
    return (pred - torch.where(m, gt, pred)).abs().sum() / m.sum().clamp_min(1)


def guidance_l1(z: torch.Tensor, z_gt: torch.Tensor) -> torch.Tensor:
    return (z - z_gt).abs().mean()

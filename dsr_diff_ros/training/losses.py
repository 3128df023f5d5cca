"""Losses: L1 (or per-sample RMSE) on depth over valid ground-truth pixels (normalised units), L1 on the guidance."""
from __future__ import annotations

import torch


def masked_l1(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """pred, gt (B,1,H,W); gt <= 0 or non-finite = no ground truth."""
    m = (gt > 0) & torch.isfinite(gt)
    return (pred - torch.where(m, gt, pred)).abs().sum() / m.sum().clamp_min(1)


def masked_rmse(pred: torch.Tensor, gt: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Mean over the batch of each sample's RMSE over its valid pixels (the evaluation's metric, per crop); its
    gradient has L1's scale (err / rmse), so the balance against the guidance loss stays. Same masking as L1."""
    m = (gt > 0) & torch.isfinite(gt)
    sq = (pred - torch.where(m, gt, pred)).pow(2).flatten(1).sum(1)
    n = m.flatten(1).sum(1)
    return ((sq / n.clamp_min(1) + eps).sqrt() * (n > 0)).sum() / (n > 0).sum().clamp_min(1)


DEPTH_LOSSES = {"l1": masked_l1, "rmse": masked_rmse}


def guidance_l1(z: torch.Tensor, z_gt: torch.Tensor) -> torch.Tensor:
    return (z - z_gt).abs().mean()

"""Geometric self-ensemble (the "+" of EDSR, Lim et al. 2017): run the network on flipped and transposed copies
of the input, undo each transform on the output and average.

The eight transforms are the symmetries of the pixel grid (the dihedral group D4): identity, horizontal flip,
vertical flip, both (a 180-degree turn), and the same four after a transpose. They change no depth value and
move no pixel off the grid, so every variant is a valid input; the network is not exactly equivariant to them,
and its orientation-specific errors (window partition, pixel-unshuffle phase, GRN's initial noise, the
bottom/right padding) partly cancel in the mean. Measured on the tune split (docs/model.md, "Self-ensemble"): the
mean of 8 lowers RMSE by 1-10 % at x2-x8 and under heavy noise, 0.3-2 % at x16; the mean of 4 (the flips) gains
about three quarters of that; the per-pixel median is slightly worse than the mean. Cost: one network pass per
variant; copies of one orientation can share a batch (``batches``), which on a GPU costs far less than passes in
turn (docs/model.md, "Self-ensemble").
"""
from __future__ import annotations

from typing import Callable

import torch

Transform = Callable[[torch.Tensor], torch.Tensor]

SIZES = (1, 2, 4, 8)   # = pipeline.ENSEMBLE_SIZES (the pipeline does not import torch)


def _flip(dims: tuple[int, ...]) -> Transform:
    return (lambda t: t.flip(dims)) if dims else (lambda t: t)


def _t(t: torch.Tensor) -> torch.Tensor:
    return t.transpose(-1, -2)


# (forward, inverse) on (..., H, W) tensors; the first n form the ensemble of size n
_FLIPS = ((), (-1,), (-2,), (-2, -1))
TRANSFORMS: tuple[tuple[Transform, Transform], ...] = tuple(
    (_flip(d), _flip(d)) for d in _FLIPS) + tuple(
    ((lambda t, f=_flip(d): _t(f(t))), (lambda t, f=_flip(d): f(_t(t)))) for d in _FLIPS)


def transforms(n: int) -> tuple[tuple[Transform, Transform], ...]:
    """The first ``n`` (forward, inverse) pairs: 1 = identity only, 2 = + horizontal flip, 4 = all flips, 8 = flips
    and transposes. Raises ValueError for other sizes."""
    if n not in SIZES:
        raise ValueError(f"ensemble must be one of {SIZES}, got {n!r}")
    return TRANSFORMS[:n]


def batches(n: int, per_batch: int) -> list[tuple[tuple[Transform, Transform], ...]]:
    """``transforms(n)`` cut into runs of at most ``per_batch`` copies that share an orientation (the flips keep
    (H, W), the transposes give (W, H)), so each run's copies stack along the batch dimension. In order."""
    if per_batch < 1:
        raise ValueError(f"per_batch must be >= 1, got {per_batch!r}")
    pairs = transforms(n)
    same = [pairs[:4], pairs[4:]]
    return [g[i:i + per_batch] for g in same for i in range(0, len(g), per_batch)]


__all__ = ["SIZES", "TRANSFORMS", "transforms", "batches"]

"""Adaptation settings (serialised into the output JSON)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional


@dataclass
class AdaptConfig:
    """base:       weights to start from (name in dsr_diff_ros/weights or a path; None: the shipped default)
    budget_s:      wall-clock seconds of optimisation (the reading and the profile come on top); a resumed run
                   counts the time already spent
    max_iters:     stop after this many iterations as well (None: the budget alone decides)
    max_frames:    frames kept from the recording (spread evenly over it)
    holdout:       share of the frames held out (every k-th frame) to decide whether to keep the new weights
    min_gain:      the held-out self-supervised loss must drop by at least this fraction to keep them
    min_holdout_frames: fewer held-out frames than this: the result cannot be verified, the base weights are
                   written without optimising (measured: on a 5-frame real Kinect recording, 1 held-out frame
                   improved by 20 % while the RMSE got 4 % worse)
    scope:         parameters adapted: "light" (norms, prior modulations, FFM and the head of DSRN),
                   "dsrn" (all of DSRN), "all" (DSRN and GRN's condition encoder/denoiser)
    lr:            Adam learning rate; batch / crop: cross-scale samples per step and their size (LR pixels)
    real_batch / real_crop: real-scale crops per step and their size (LR pixels; 0 batch: none)
    w_cross / w_consistency / w_edge / w_reg / w_anchor: loss weights (see ``adapt.losses``)
    eval_every:    iterations between held-out evaluations (and best-weights snapshots)
    steps:         GRN reverse steps (None: the weights' default, as the Upscaler runs them)
    offset_px:     (dx, dy) colour/depth offset in colour pixels when known (a rig calibration): replaces the
                   estimate (the estimate is still recorded as ``offset_estimated_px``)
    threads:       torch CPU threads (0: leave torch's default). 1 by default: the steps are small, and on the loaded
                   2-core machine torch's default (2) ran 100x slower (39 instead of ~4000 steps in 420 s)
    """

    base: Optional[str] = None
    budget_s: float = 420.0
    max_iters: Optional[int] = None
    max_frames: int = 300
    holdout: float = 0.2
    min_gain: float = 0.005
    min_holdout_frames: int = 3
    scope: str = "dsrn"
    lr: float = 1e-4
    batch: int = 8
    crop: int = 64
    real_batch: int = 0
    real_crop: int = 32
    w_cross: float = 1.0
    w_consistency: float = 0.0
    w_edge: float = 0.0
    w_reg: float = 0.0
    w_anchor: float = 0.0
    eval_every: int = 40
    steps: Optional[int] = None
    offset_px: Optional[tuple] = None
    seed: int = 0
    threads: int = 1
    device: str = "cpu"

    def to_dict(self) -> dict:
        return asdict(self)

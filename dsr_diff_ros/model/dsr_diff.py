"""DSR-Diff: GGN + DSRN (with FFM) + GRN, and the one forward path prepare -> guidance -> DSRN -> metres."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..geometry import upscale_ratio
from .config import ModelConfig
from .dsrn import DSRN
from .flat_gate import planarity_gate, threshold
from .ggn import GGN
from .grn import GRN
from .preprocess import Prepared, prepare
from .refine import HRRefine


@dataclass
class SROutput:
    """One forward pass.

    depth: (B,1,H,W) metres, limited to [0, farthest valid input depth]
    norm:  (B,1,H,W) the network's normalised output before that limit (training loss)
    z:     (B,z_ch,h_z,w_z) the guidance prior that was used
    prep:  the prepared inputs (normalisation scale, support mask, ...)
    """

    depth: torch.Tensor
    norm: torch.Tensor
    z: torch.Tensor
    prep: Prepared


class DSRDiff(nn.Module):
    """Colour-guided depth super-resolution with a diffusion-recovered spatial guidance prior.

    forward(depth_lr (B,1,h,w) metres, rgb (B,3,H,W) [0,1]) -> depth (B,1,H,W) metres.
    Guidance, in order of precedence: ``z`` given (any grid; resized) -> it; ``depth_hr`` given -> GGN
    (stage 1 / oracle); otherwise GRN with ``steps`` reverse steps from ``z_T`` (default: noise seeded by ``seed``).
    """

    def __init__(self, cfg: ModelConfig | None = None):
        super().__init__()
        self.cfg = cfg or ModelConfig()
        self.ggn, self.dsrn, self.grn = GGN(self.cfg), DSRN(self.cfg), GRN(self.cfg)
        c = self.cfg
        self.refine = HRRefine(c.refine_ch, c.refine_feat, c.dim, c.unshuffle) if c.refine_ch > 0 else None

    def prepare(self, depth_lr: torch.Tensor, rgb: torch.Tensor) -> Prepared:
        return prepare(depth_lr, rgb, self.cfg.unshuffle)

    def guidance_gt(self, p: Prepared, depth_hr: torch.Tensor) -> torch.Tensor:
        """Stage-1 (oracle) prior z from the HR depth (B,1,H,W) metres."""
        hr = torch.nan_to_num(depth_hr.float(), nan=0.0).clamp_min(0) / p.scale
        H, W = p.hw
        Hp, Wp = p.rgb.shape[-2:]
        if (Hp, Wp) != (H, W):
            hr = F.pad(hr, (0, Wp - W, 0, Hp - H), mode="replicate")
        # holes in the ground truth: use the input's upsampling there (GGN sees no fake edges)
        hr = torch.where(hr > 0, hr, p.base)
        return self.ggn(hr.to(p.rgb.dtype), p.rgb, p.lr_grid)

    def guidance(self, p: Prepared, steps: int | None = None, z_T: torch.Tensor | None = None,
                 seed: int | None = None) -> torch.Tensor:
        """Run-time prior from GRN (B,z_ch,h_z,w_z)."""
        return self.grn(p.rgb, p.lr_grid, steps or self.cfg.timesteps, z_T=z_T, seed=seed)

    def run(self, depth_lr: torch.Tensor, rgb: torch.Tensor, *, steps: int | None = None,
            depth_hr: torch.Tensor | None = None, z: torch.Tensor | None = None, z_T: torch.Tensor | None = None,
            seed: int | None = None, prepared: Prepared | None = None) -> SROutput:
        """The one forward path (training, evaluation and the Upscaler all come through here)."""
        p = prepared if prepared is not None else self.prepare(depth_lr, rgb)
        if z is None:
            z = self.guidance_gt(p, depth_hr) if depth_hr is not None else self.guidance(p, steps, z_T, seed)
        base_grid = F.avg_pool2d(p.base, self.cfg.unshuffle)
        res, feat = self.dsrn(p.lr, p.rgb, base_grid, z.to(p.rgb.dtype), p.extent)
        out = p.base + res
        if self.refine is not None:
            out = self.refine(out, p.rgb, feat)
        if self.cfg.flat_gate > 0:   # no colour-driven detail where the LR depth is a plane
            tau = threshold(self.cfg.flat_gate, upscale_ratio(p.lr.shape[-2:], p.hw))   # the Upscaler's ratio
            gate = planarity_gate(p.lr[:, :1], out.shape[-2:], tau, p.extent)
            out = p.base + gate.to(out.dtype) * (out - p.base)
        out = out[..., :p.hw[0], :p.hw[1]]
        return SROutput(self.to_metres(p, out), out, z, p)

    def forward(self, depth_lr: torch.Tensor, rgb: torch.Tensor, steps: int | None = None,
                depth_hr: torch.Tensor | None = None, z: torch.Tensor | None = None) -> torch.Tensor:
        return self.run(depth_lr, rgb, steps=steps, depth_hr=depth_hr, z=z).depth

    @staticmethod
    def to_metres(p: Prepared, out: torch.Tensor) -> torch.Tensor:
        """Normalised output -> metres, limited to [0, farthest valid input depth] (the normalised range [0, 1]):
        super-resolution must not invent depth beyond what the sensor saw."""
        return out.float().clamp(0, 1) * p.scale

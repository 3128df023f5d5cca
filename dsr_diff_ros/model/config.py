"""Architecture configuration (serialised to JSON next to the weights)."""
from __future__ import annotations

from dataclasses import dataclass, asdict, fields


@dataclass
class ModelConfig:
    """DSR-Diff hyper-parameters.

    unshuffle:   colour is pixel-unshuffled by this factor: the working grid is (H/u, W/u)
    dim:         channels of the transformer groups; heads: attention heads
    dfe_blocks / cfe_blocks / fuse_blocks: blocks in the depth group, colour group, and after FFM
    ffn_factor:  hidden expansion of the gated feed-forward
    z_ch:        channels of the spatial guidance prior z (B, z_ch, H/(u*z_down), W/(u*z_down))
    z_down:      the prior's grid is the working grid down-sampled by this factor (compactness)
    z_embed:     channels of the prior embedding that every modulation reads
    ggn_channels / grn_channels: widths of GGN and of GRN's condition encoder and denoiser
    denoiser_blocks: residual blocks of GRN's conditional denoiser (run once per diffusion step)
    fusion:      "multiply" (FFM, the paper) or "concat" (ablation)
    refine_ch:   channels of the full-resolution refinement after DSRN (0: none; weights before it have none)
    refine_feat: channels of DSRN's features the refinement reads at full resolution (0: none; needs refine_ch)
    deg_ch:      channels of the measured degradation descriptor (``model/degradation.py``: 0 or 3) that join the
                 prior before its embedding, so every modulation knows how noisy the input is and the ratio
    flat_gate:   threshold (relative to the local depth) of the planar-region gate (``model/flat_gate.py``): the
                 network's change to the bicubic base fades to zero where the LR depth is locally a plane (0: off;
                 the clean experts use it, the sensor experts do not: on noisy input every region looks curved)
    timesteps:   T of the GRN diffusion; beta_start/beta_end: sqrt-linear ("linear" in DiffIR) schedule
    """

    unshuffle: int = 4
    dim: int = 32
    heads: int = 2
    dfe_blocks: int = 2
    cfe_blocks: int = 2
    fuse_blocks: int = 3
    ffn_factor: float = 2.0
    z_ch: int = 8
    z_down: int = 2
    z_embed: int = 16
    ggn_channels: int = 32
    grn_channels: int = 32
    denoiser_blocks: int = 1
    fusion: str = "multiply"
    refine_ch: int = 0
    refine_feat: int = 0
    deg_ch: int = 0
    flat_gate: float = 0.0
    timesteps: int = 4
    beta_start: float = 0.1
    beta_end: float = 0.99

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**d)

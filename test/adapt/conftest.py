"""Fixtures of the adaptation tests: procedural RGB-D scenes (exact colour/depth alignment), a recording of a
known simulated sensor made from them, and a tiny DSR-Diff saved as base weights (mechanics, not accuracy)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dsr_diff_ros.adapt.simulate import SimSensor, simulate
from dsr_diff_ros.data.synthetic import SceneGenerator
from dsr_diff_ros.model import DSRDiff, ModelConfig
from dsr_diff_ros.model.checkpoint import save_weights

TINY = ModelConfig(dim=8, heads=1, dfe_blocks=1, cfe_blocks=1, fuse_blocks=1, ffn_factor=1.0, z_ch=4, z_embed=4,
                   ggn_channels=8, grn_channels=8, timesteps=2)
SENSOR = SimSensor(lr_size=(44, 33), noise="linear", noise_std=0.04, hole_rate=0.04, offset_px=(5.0, 0.0), seed=3)


@pytest.fixture(scope="session")
def scenes():
    """16 procedural scenes, 120x160: ([rgb (120,160,3) uint8], [depth (120,160) metres])."""
    g = SceneGenerator(120, 160)
    s = [g(i) for i in range(16)]
    return [x.rgb for x in s], [x.depth for x in s]


@pytest.fixture(scope="session")
def sim_frames(scenes):
    """The scenes through SENSOR: (colour displaced by (5, 0) px, LR depth 44x33: ratio 3.64)."""
    return simulate(*scenes, SENSOR)


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory):
    """A tiny DSR-Diff with a non-zero head (so outputs depend on the weights), saved as base weights."""
    torch.manual_seed(0)
    m = DSRDiff(TINY)
    with torch.no_grad():
        m.dsrn.head.weight.normal_(0, 0.01)
    path = tmp_path_factory.mktemp("base") / "tiny_base"
    save_weights(m, path, {"default_steps": 2, "training": {"note": "random tiny model for mechanics tests"}})
    return path

"""The planar-region gate: closed on planes (borders included), open at depth edges, relative to the local depth,
and in the model's one forward path it returns the bicubic base on a plane whatever the colour says."""
import numpy as np
import pytest
import torch

from dsr_diff_ros.model import DSRDiff, ModelConfig
from dsr_diff_ros.model.flat_gate import planarity_gate

CFG = ModelConfig(dim=16, heads=2, dfe_blocks=1, cfe_blocks=1, fuse_blocks=1, z_ch=4, z_embed=8, ggn_channels=8,
                  grn_channels=8, refine_ch=4)


def plane(h, w, a, b, c):
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    return (c + a * xx + b * yy)[None, None]


@pytest.mark.parametrize("a, b", [(0.0, 0.0), (0.004, -0.002), (-0.01, 0.007)])
def test_closed_on_any_plane_up_to_the_border(a, b):
    d = plane(30, 40, a, b, 0.6)
    g = planarity_gate(d, (120, 160), tau=3e-3)
    assert g.shape == (1, 1, 120, 160)
    assert float(g.max()) < 1e-3


def test_open_at_a_step_closed_far_from_it_and_relative_to_depth():
    d = torch.full((1, 1, 30, 40), 0.5)
    d[..., 20:] = 0.45                                   # a 10 % step at LR column 20
    g = planarity_gate(d, (30, 40), tau=3e-3)[0, 0]
    assert torch.all(g[:, 18:22] == 1) and float(g[:, :16].max()) < 1e-3 and float(g[:, 24:].max()) < 1e-3
    small = torch.full((1, 1, 30, 40), 0.5)
    small[..., 20:] = 0.5 - 0.5 * 1.5e-3                 # a step of 0.15 % of the depth: partly open
    s = planarity_gate(small, (30, 40), tau=3e-3)[0, 0]
    assert 0.1 < float(s[:, 19:21].max()) < 1
    # the same relative step at a fifth of the depth opens the gate the same way
    assert torch.allclose(planarity_gate(small * 0.2, (30, 40), tau=3e-3), s[None, None], atol=1e-3)


def test_tiny_grids_leave_the_network_alone():
    assert torch.equal(planarity_gate(torch.rand(2, 1, 1, 7), (4, 28), 3e-3), torch.ones(2, 1, 4, 28))


def test_model_returns_the_bicubic_base_on_a_plane_under_textured_colour():
    torch.manual_seed(0)
    m = DSRDiff(CFG).eval()
    with torch.no_grad():
        m.refine.body[-1].weight.normal_(0, 0.5)          # a refinement that reads the colour
        m.dsrn.head.weight.normal_(0, 0.5)
    d = plane(12, 16, 0.03, 0.01, 1.5)
    rgb = torch.rand(1, 3, 48, 64)                        # texture with no depth behind it
    with torch.no_grad():
        off = m.run(d, rgb, steps=1)
        m.cfg.flat_gate = 3e-3
        on = m.run(d, rgb, steps=1)
    base = on.prep.base[..., :48, :64]
    moved = float((off.norm - base).abs().max())
    assert moved > 1e-2                                   # without the gate the colour moves the plane
    assert float((on.norm - base).abs().max()) < 0.02 * moved
    # at a depth edge the network's output passes unchanged
    d2 = d.clone()
    d2[..., 8:] += 0.5
    with torch.no_grad():
        on2 = m.run(d2, rgb, steps=1).norm
        m.cfg.flat_gate = 0.0
        off2 = m.run(d2, rgb, steps=1).norm
    assert torch.allclose(on2[..., 28:36], off2[..., 28:36])
    assert ModelConfig.from_dict({**CFG.to_dict(), "flat_gate": 3e-3}).flat_gate == 3e-3


def test_the_threshold_grows_below_x4_and_the_model_uses_it():
    """Below x4 the bicubic base is better, so the gate closes on flatter-than-x4 deviations; from x4 up: tau."""
    from dsr_diff_ros.model.flat_gate import threshold

    assert threshold(0.005, 4.0) == threshold(0.005, 16.0) == 0.005
    assert threshold(0.005, 2.0) == pytest.approx(0.04) and threshold(0.005, 3.0) > 0.005
    y, x = torch.meshgrid(torch.arange(24.0), torch.arange(32.0), indexing="ij")
    bumpy = (1.0 + 0.008 * torch.sin(x) * torch.sin(y))[None, None]     # 0.8 % ripples on a plane
    g4 = planarity_gate(bumpy, (96, 128), threshold(0.005, 4.0))
    g2 = planarity_gate(bumpy, (48, 64), threshold(0.005, 2.0))
    assert float(g4.mean()) > 0.5 and float(g2.mean()) < 0.3 * float(g4.mean())
    # the model gates by the call's ratio: the same LR frame at x2 keeps less of the network's change than at x4
    torch.manual_seed(0)
    m = DSRDiff(CFG).eval()
    with torch.no_grad():
        m.refine.body[-1].weight.normal_(0, 0.5)
        m.dsrn.head.weight.normal_(0, 0.5)
        m.cfg.flat_gate = 0.005
        change = {}
        for s in (2, 4):
            rgb = torch.rand(1, 3, 24 * s, 32 * s)
            out = m.run(bumpy, rgb, steps=1)
            change[s] = float((out.norm - out.prep.base[..., :24 * s, :32 * s]).abs().mean())
    assert change[2] < 0.5 * change[4], change

"""The measured degradation descriptor (model/degradation.py) and the model that reads it."""
import math

import numpy as np
import pytest
import torch

from dsr_diff_ros.model import DSRDiff, ModelConfig
from dsr_diff_ros.model.degradation import CHANNELS, degradation_maps

TINY = ModelConfig(dim=8, heads=1, dfe_blocks=1, cfe_blocks=1, fuse_blocks=1, z_ch=2, z_embed=4, ggn_channels=8,
                   grn_channels=8)


def _lr(depth: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    v = torch.ones_like(depth) if valid is None else valid
    return torch.stack([depth * v, v])[None]


def _sigma(scaled: torch.Tensor) -> torch.Tensor:
    return 10 ** (scaled * 1.5 - 2.5) - 1e-4


def test_a_clean_slanted_plane_reads_as_noise_free_and_gaussian_noise_is_measured():
    h, w = 60, 80
    y, x = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    plane = 0.3 + 0.004 * x + 0.002 * y                                   # normalised depth
    clean = degradation_maps(_lr(plane), out_h=4 * h)
    assert clean.shape == (1, CHANNELS, h, w)
    assert float(_sigma(clean[0, 1, 0, 0])) < 2e-4                         # the floor: no noise
    g = torch.Generator().manual_seed(0)
    for sigma in (0.003, 0.01, 0.03):
        noisy = degradation_maps(_lr(plane + sigma * torch.randn(h, w, generator=g)), out_h=4 * h)
        assert float(_sigma(noisy[0, 1, 0, 0])) == pytest.approx(sigma, rel=0.15)
        assert float(_sigma(noisy[0, 0]).median()) == pytest.approx(sigma, rel=0.25)
    assert float(clean[0, 2, 0, 0]) == pytest.approx(math.log2(4) / 4)    # the ratio channel


def test_depth_edges_and_holes_do_not_read_as_noise_and_the_local_map_follows_the_noise():
    h, w = 48, 64
    d = torch.full((h, w), 0.4)
    d[:, w // 2:] = 0.9                                                  # a step edge
    d[::7, ::5] = 0.9                                                    # and isolated outliers left as holes
    valid = torch.ones(h, w)
    valid[::7, ::5] = 0
    m = degradation_maps(_lr(d, valid), out_h=2 * h)
    assert torch.isfinite(m).all() and float(_sigma(m[0, :2]).max()) < 2e-4
    g = torch.Generator().manual_seed(1)
    left_noisy = d.clone()
    left_noisy[:, :w // 2] += 0.02 * torch.randn(h, w // 2, generator=g)
    m = degradation_maps(_lr(left_noisy, valid), out_h=2 * h)
    assert float(_sigma(m[0, 0, :, :w // 4]).median()) > 10 * float(_sigma(m[0, 0, :, -w // 4:]).median())


def test_no_valid_pixel_and_tiny_grids_give_finite_maps():
    for h, w in ((1, 1), (2, 3), (8, 8)):
        for valid in (torch.zeros(h, w), torch.ones(h, w)):
            m = degradation_maps(_lr(torch.rand(h, w), valid), out_h=16 * h)
            assert m.shape == (1, CHANNELS, h, w) and torch.isfinite(m).all()


def test_the_model_reads_the_maps_and_grown_weights_start_from_the_same_function():
    from dsr_diff_ros.training.trainer import TrainConfigError, grow

    torch.manual_seed(0)
    small = DSRDiff(TINY).eval()
    with torch.no_grad():
        for prm in small.parameters():
            prm.add_(0.05 * torch.randn_like(prm))
    big = grow(small, deg_ch=CHANNELS).eval()
    lr, rgb = torch.rand(2, 1, 8, 10) + 0.5, torch.rand(2, 3, 32, 40)
    z = torch.randn(2, TINY.z_ch, 4, 5)
    with torch.no_grad():
        assert torch.equal(small.run(lr, rgb, z=z).depth, big.run(lr, rgb, z=z).depth)
        big.dsrn.z_embed[0].weight.normal_()                             # a trained reader: noise changes the output
        noisy = lr + 0.05 * torch.randn(lr.shape, generator=torch.Generator().manual_seed(0))
        a = big.run(noisy, rgb, z=z).norm - big.run(lr, rgb, z=z).norm
        small.dsrn.z_embed[0].weight.copy_(big.dsrn.z_embed[0].weight[:, :TINY.z_ch])
        b = small.run(noisy, rgb, z=z).norm - small.run(lr, rgb, z=z).norm
    assert not torch.allclose(a, b)
    with pytest.raises(TrainConfigError, match="cannot grow"):
        grow(small, deg_ch=2)
    with pytest.raises(TrainConfigError, match="cannot grow"):
        grow(big, deg_ch=CHANNELS)
    with pytest.raises(ValueError, match="deg_ch"):
        DSRDiff(ModelConfig(deg_ch=1))

"""Baselines on synthetic cases with known answers."""
import numpy as np
import pytest

from dsr_diff_ros.data.degradations import bicubic_downsample
from dsr_diff_ros.evaluation import baselines as B
from dsr_diff_ros.evaluation.metrics import compute_metrics

ALL = {**B.BASELINES, **B.EXTRA_BASELINES}


def _step_scene(H=64, W=96):
    """Two fronto-parallel planes with a colour edge aligned to the depth edge."""
    depth = np.full((H, W), 2.0, np.float32)
    depth[:, W // 2 + 3:] = 1.0
    rgb = np.full((H, W, 3), 40, np.uint8)
    rgb[:, W // 2 + 3:] = (220, 200, 180)
    return depth, rgb


@pytest.mark.parametrize("name", list(ALL))
def test_constant_plane_exact(name):
    rgb = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    lr = np.full((12, 16), 1.7, np.float32)
    out = ALL[name](lr, rgb)
    assert out.shape == (48, 64) and out.dtype == np.float32
    np.testing.assert_allclose(out, 1.7, rtol=1e-5)


@pytest.mark.parametrize("name", list(ALL))
def test_non_integer_ratio_and_holes(name):
    rgb = np.zeros((50, 70, 3), np.uint8)
    lr = np.full((13, 17), 2.0, np.float32)
    lr[3:5, 4:6] = 0
    lr[8, 8] = np.nan
    out = ALL[name](lr, rgb)
    assert out.shape == (50, 70)
    np.testing.assert_allclose(out, 2.0, rtol=1e-5)       # holes filled from the nearest valid pixel
    sparse = ALL[name](lr, rgb, fill_holes=False)
    assert np.isnan(sparse).any() and np.isfinite(sparse).mean() > 0.8


@pytest.mark.parametrize("name", list(ALL))
def test_all_invalid_gives_nan(name):
    out = ALL[name](np.zeros((8, 8), np.float32), np.zeros((32, 32, 3), np.uint8))
    assert out.shape == (32, 32) and np.isnan(out).all()


def test_fill_nearest():
    d = np.array([[1, 0, 0, 4]], np.float32)
    np.testing.assert_array_equal(B.fill_nearest(d), [[1, 1, 4, 4]])


@pytest.mark.parametrize("name", ["guided", "jbu", "jbf"])
def test_colour_guided_beat_bicubic_at_edge(name):
    depth, rgb = _step_scene()
    lr = bicubic_downsample(depth, 4)
    ref = compute_metrics(B.bicubic(lr, rgb), depth, edge_width=3)["edge_rmse"]
    got = compute_metrics(ALL[name](lr, rgb), depth, edge_width=3)["edge_rmse"]
    assert got < 0.8 * ref, (name, got, ref)


def test_planar_ramp_linear_methods():
    yy, xx = np.mgrid[0:64, 0:64].astype(np.float32)
    hr = 1.0 + 0.01 * xx + 0.005 * yy
    lr = (1.0 + 0.01 * ((np.arange(16) + 0.5) * 4 - 0.5)[None, :]
          + 0.005 * ((np.arange(16) + 0.5) * 4 - 0.5)[:, None]).astype(np.float32)
    out = B.bilinear(lr, np.zeros((64, 64, 3), np.uint8))
    inner = (slice(4, -4), slice(4, -4))   # away from the clamped border
    np.testing.assert_allclose(out[inner], hr[inner], atol=1e-4)


def test_bad_shapes():
    with pytest.raises(ValueError):
        B.bicubic(np.zeros((4, 4, 1), np.float32), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(KeyError):
        B.get_method("magic")

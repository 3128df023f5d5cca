"""Degradations: the paper protocol matches PIL bicubic; the sensor model degrades the way it claims."""
import numpy as np
import pytest
from PIL import Image

from dsr_diff_ros.data.degradations import SensorModel, degrade, lr_size


def _ramp(h=64, w=80):
    return (1.0 + np.linspace(0, 2, w, dtype=np.float32)[None].repeat(h, 0))


def test_bicubic_matches_pil():
    hr = _ramp()
    lr = degrade(hr, 4, "bicubic")
    ref = np.asarray(Image.fromarray(hr, mode="F").resize((20, 16), Image.BICUBIC))
    assert lr.shape == (16, 20)
    np.testing.assert_allclose(lr, ref, atol=1e-6)


def test_bicubic_invalid_neighbourhood_becomes_invalid():
    hr = _ramp()
    hr[20:28, 30:40] = 0
    lr = degrade(hr, 4, "bicubic")
    assert (lr[5:7, 8:10] == 0).all() and (lr[0] > 0).all()


def test_sensor_size_noise_holes_quantisation():
    hr = np.full((120, 160), 4.0, np.float32)
    hr[:, :80] = 1.0
    lr = degrade(hr, 2.5, "sensor", SensorModel(noise_std=0.002, quant_mm=1.0, hole_rate=0.05), rng=0)
    assert lr.shape == lr_size(hr.shape, 2.5) == (48, 64)
    assert 0.01 < (lr == 0).mean() < 0.3
    valid = lr > 0
    assert np.allclose(lr[valid] * 1000, np.round(lr[valid] * 1000), atol=1e-3)
    near, far = lr[:, 5:25][valid[:, 5:25]], lr[:, 40:60][valid[:, 40:60]]
    assert far.std() > 4 * near.std()            # structured light: noise grows with depth squared
    tof = degrade(hr, 2.5, "sensor", SensorModel(noise="linear", noise_std=0.01, hole_rate=0), rng=0)
    assert tof.shape == (48, 64)
    a = degrade(hr, 4, "sensor", rng=3)
    assert np.array_equal(a, degrade(hr, 4, "sensor", rng=3))  # deterministic per seed


def test_sensor_never_invents_depth_in_holes_and_handles_nan():
    hr = np.full((64, 64), 2.0, np.float32)
    hr[:32] = np.nan
    lr = degrade(hr, 4, "sensor", SensorModel(flying=0, noise_std=0), rng=0)
    assert (lr[:7] == 0).all() and (lr[9:] > 0).all()
    with pytest.raises(ValueError, match="unknown degradation mode"):
        degrade(hr, 4, "blur")


def test_fatten_foreground_moves_edges_onto_the_background_only():
    from dsr_diff_ros.data.degradations import fatten_foreground
    d = np.full((12, 16), 3.0, np.float32)
    d[:, :6] = 1.5                                   # a near surface on the left
    d[2, 12] = 0.0                                   # a hole on the far side stays a hole
    slope = np.tile(np.linspace(2.0, 2.3, 16, dtype=np.float32), (12, 1))   # 1 % a pixel: not a discontinuity
    for px in (1, 2):
        f = fatten_foreground(d, px)
        assert (f[:, :6 + px] == 1.5).all() and (f[:, 6 + px:][d[:, 6 + px:] > 0] == 3.0).all()
        assert f[2, 12] == 0.0 and f.dtype == np.float32
        np.testing.assert_array_equal(fatten_foreground(slope, px), slope)
    np.testing.assert_array_equal(fatten_foreground(d, 0), d)



def test_other_downsampling_kernels_are_what_evaluation_code_computes():
    """``kernel_downsample``: OpenCV's aliased cubic / linear, nearest at the top-left phase (``depth[::s, ::s]``) and
    at the block centre, the block mean; an LR pixel whose support touches a hole is a hole; unknown names refused."""
    import cv2

    from dsr_diff_ros.data.degradations import KERNELS, kernel_downsample

    rng = np.random.default_rng(0)
    hr = (1 + rng.random((64, 80))).astype(np.float32)
    assert np.array_equal(kernel_downsample(hr, 4, "nearest"), hr[::4, ::4])
    assert np.array_equal(kernel_downsample(hr, 4, "nearest_centre"), hr[2::4, 2::4])
    np.testing.assert_allclose(kernel_downsample(hr, 4, "cv2_cubic"), cv2.resize(hr, (20, 16), interpolation=cv2.INTER_CUBIC))
    np.testing.assert_allclose(kernel_downsample(hr, 4, "area"), hr.reshape(16, 4, 20, 4).mean((1, 3)), rtol=1e-5)
    np.testing.assert_allclose(kernel_downsample(hr, 4, "bicubic"), degrade(hr, 4, "bicubic"))
    holey = hr.copy()
    holey[20:28, 30:40] = 0
    for k in KERNELS:
        lr = kernel_downsample(holey, 4, k)
        assert lr.shape == (16, 20) and lr.dtype == np.float32 and (lr[6, 8:10] == 0).all(), k
        full, v = kernel_downsample(hr, 4, k), lr > 0
        assert v[0].all() and v.mean() > 0.9, k
        if k == "area":   # the mean of the valid part of the block: no hole averaged in
            assert lr[v].min() >= 1.0 and np.allclose(lr[v & (lr == full)], full[v & (lr == full)]), k
        else:             # a value only where the support was whole: the hole-free value
            np.testing.assert_allclose(lr[v], full[v], rtol=1e-6, err_msg=k)
    with pytest.raises(ValueError, match="kernel"):
        kernel_downsample(hr, 4, "lanczos")

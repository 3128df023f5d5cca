import numpy as np
import pytest

from dsr_diff_ros import geometry as g
from dsr_diff_ros.frame import Intrinsics

K = Intrinsics(100.0, 110.0, 31.5, 23.5, 64, 48)


def test_backproject_matches_pinhole():
    rng = np.random.default_rng(0)
    d = rng.uniform(0.5, 4, (48, 64)).astype(np.float32)
    d[3, 4], d[5, 6], d[7, 8] = 0, np.nan, -1
    p = g.backproject(d, K)
    assert p.shape == (48, 64, 3) and p.dtype == np.float32
    v, u = 10, 20
    assert np.allclose(p[v, u], [(u - K.cx) / K.fx * d[v, u], (v - K.cy) / K.fy * d[v, u], d[v, u]], rtol=1e-6)
    assert np.isnan(p[3, 4]).all() and np.isnan(p[5, 6]).all() and np.isnan(p[7, 8]).all()
    p2 = g.backproject(d, K, decimation=3)
    assert p2.shape == (16, 22, 3)
    assert np.allclose(p2[2, 5], p[6, 15], equal_nan=True)
    with pytest.raises(ValueError):
        g.backproject(d[:10], K)


def test_register_identity_is_lossless():
    d = np.random.default_rng(1).uniform(1, 3, (48, 64)).astype(np.float32)
    r = g.register_depth(d, K, K, np.eye(4))
    assert np.allclose(r, d, atol=1e-5)


def test_register_translation_plane_and_zbuffer():
    # plane at z=2 seen by a depth camera 5 cm to the left of the colour camera (depth->rgb: x - 0.05)
    d = np.full((48, 64), 2.0, np.float32)
    T = np.eye(4)
    T[0, 3] = -0.05
    r = g.register_depth(d, K, K, T)
    shift = K.fx * 0.05 / 2.0  # 2.5 px to the left
    assert np.nanmax(np.abs(r - 2.0)) < 1e-5
    assert np.isnan(r[:, -2:]).all() and np.isfinite(r[:, :60]).all()
    assert shift > 2
    # z-buffer: a near object in front of a far wall wins where both land
    d2 = np.full((48, 64), 4.0, np.float32)
    d2[20:28, 30:34] = 1.0
    r2 = g.register_depth(d2, K, K, T)
    assert np.nanmin(r2) == pytest.approx(1.0) and (r2 == 1.0).sum() >= 8 * 4 - 8


def test_register_to_smaller_grid_and_rotation():
    big = Intrinsics(200.0, 220.0, 63.5, 47.5, 128, 96)
    d = np.full((96, 128), 1.5, np.float32)
    grid = g.lr_grid_for(big, (48, 64))
    assert (grid.width, grid.height) == (64, 48)
    r = g.register_depth(d, big, grid, None)
    assert np.isfinite(r).mean() > 0.99
    T = g.transform_from_xyz_quat([0, 0, 0], [0, 0, np.sin(np.pi / 4), np.cos(np.pi / 4)])  # 90 deg about z
    assert np.allclose(T[:3, :3] @ [1, 0, 0], [0, 1, 0])

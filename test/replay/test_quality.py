"""Replay metrics against hand-computed values."""
import numpy as np
import pytest

from dsr_diff_ros.replay.quality import (MethodTracker, downsample_to, self_consistency, static_mask, summarize,
                                         temporal_change, valid_ratio)
from dsr_diff_ros.replay.sensor import SimSensorConfig, SimulatedSensor, parse_size


def test_downsample_and_self_consistency():
    pred = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, np.nan, np.nan], [3, 3, np.nan, 4]], np.float32)
    back = downsample_to(pred, (2, 2))
    np.testing.assert_allclose(back, [[1, 2], [3, 0]])  # 1 valid of 4 < half -> 0
    lr = np.array([[1.5, 2], [3, 4]], np.float32)
    sc = self_consistency(pred, lr)  # errors on the 3 valid pairs: -0.5, 0, 0
    assert sc["sc_n"] == 3
    assert sc["sc_rmse"] == pytest.approx(np.sqrt(0.25 / 3))
    assert sc["sc_mae"] == pytest.approx(0.5 / 3)


def test_static_mask_and_temporal_change():
    a = np.array([[1.0, 2.0], [3.0, 0.0]], np.float32)
    b = np.array([[1.005, 2.5], [3.02, 1.0]], np.float32)
    m = static_mask(a, b, abs_thr=0.01, rel_thr=0.01)  # thresholds: 0.01, 0.02, 0.0302, -
    np.testing.assert_array_equal(m, [[True, False], [True, False]])
    prev = np.ones((4, 4), np.float32)
    cur = prev.copy()
    cur[:2, :2] = 1.1    # LR pixel (0,0) -> 4 HR pixels changed by 0.1
    cur[2:, :2] = 1.3    # LR pixel (1,0)
    cur[2, 0] = np.nan   # one invalid output pixel is excluded
    val, n = temporal_change(prev, cur, m)
    assert n == 7
    assert val == pytest.approx((4 * 0.1 + 3 * 0.3) / 7, rel=1e-5)


def test_tracker_rows_and_summary():
    gt = np.full((4, 4), 2.0, np.float32)
    lr = np.full((2, 2), 2.0, np.float32)
    t = MethodTracker("m")
    r0 = t.update(0, 10, np.full((4, 4), 2.1, np.float32), lr, gt, 5.0)
    r1 = t.update(1, 20, np.full((4, 4), 2.2, np.float32), lr, gt, 15.0)
    assert r0["rmse"] == pytest.approx(0.1, rel=1e-5) and r1["rmse"] == pytest.approx(0.2, rel=1e-5)
    assert r0["sc_rmse"] == pytest.approx(0.1, rel=1e-5)
    assert "temporal" not in r0 and r1["temporal"] == pytest.approx(0.1, rel=1e-5) and r1["static_frac"] == 1.0
    lr2 = lr.copy()
    lr2[0, 0] = 0
    assert valid_ratio(lr2) == 0.75
    s = summarize(t.rows)
    assert s["n_frames"] == 2 and s["rmse"] == pytest.approx(0.15, rel=1e-5)
    assert s["latency_ms"] == 10.0 and s["latency_p50_ms"] == 10.0 and s["valid_gain"] == 0.0
    assert _same(list(t.rows), [r0, r1]) and _same([t.rows[-1]], [r1]) and summarize([r0, r1]) == s


def _same(a: list, b: list) -> bool:
    """Row lists equal, NaN equal to NaN."""
    return len(a) == len(b) and all(x.keys() == y.keys() and all(
        x[k] == y[k] or (np.isnan(x[k]) and np.isnan(y[k])) for k in x) for x, y in zip(a, b))


def test_frame_table_rows_round_trip_and_stay_small():
    """The per-frame rows of a long replay: the same dicts back, ~0.2 KiB a frame instead of ~1.4 KiB."""
    import tracemalloc

    from dsr_diff_ros.replay.quality import FrameTable

    rng = np.random.default_rng(0)
    gt = rng.uniform(1, 3, (48, 64)).astype(np.float32)
    lr = rng.uniform(1, 3, (12, 16)).astype(np.float32)
    t = MethodTracker("m")
    rows = [t.update(i, 1_700_000_000_123_456_789 + i, gt + 0.01 * (i % 3), lr, gt, 1.0 + i) for i in range(50)]
    assert _same(list(t.rows), rows) and rows[0]["stamp_ns"] == 1_700_000_000_123_456_789   # ns stamps exact
    tab = FrameTable()
    tab.append({"a": 1})
    tab.append({"a": 2.5, "b": None})              # int column widened, None = absent
    assert list(tab) == [{"a": 1.0}, {"a": 2.5}] and np.isnan(tab.column("b")).all()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for r in rows * 20:
        t.rows.append(r)
    per_row = (tracemalloc.get_traced_memory()[0] - before) / 1000
    tracemalloc.stop()
    assert per_row < 400, per_row


def test_simulated_sensor_size_and_intrinsics():
    from dsr_diff_ros.frame import Intrinsics
    d = np.full((120, 160), 2.0, np.float32)
    K = Intrinsics(130, 130, 79.5, 59.5, 160, 120)
    lr, k = SimulatedSensor(SimSensorConfig(size=(40, 30)))(d, K)
    assert lr.shape == (30, 40) and (k.width, k.height) == (40, 30) and k.fx == pytest.approx(32.5)
    lr2, _ = SimulatedSensor(SimSensorConfig(scale=4, mode="bicubic"))(d, K)
    assert lr2.shape == (30, 40) and np.allclose(lr2, 2.0, atol=1e-4)
    assert parse_size("160x120") == (160, 120)
    with pytest.raises(ValueError):
        parse_size("160*120")

"""Metrics against hand-computed values."""
import math

import numpy as np
import pytest

from dsr_diff_ros.evaluation.metrics import aggregate, compute_metrics, edge_band, valid_mask


def test_hand_computed_values():
    gt = np.array([[1.0, 2.0], [4.0, 0.0]], np.float32)      # one invalid GT pixel
    pred = np.array([[1.1, 1.8], [5.0, 9.0]], np.float32)
    m = compute_metrics(pred, gt, unit="m", edge_width=0)
    e = np.array([0.1, -0.2, 1.0])
    assert m["n_valid"] == 3 and m["n_missing"] == 0 and m["coverage"] == 1.0
    assert m["rmse"] == pytest.approx(math.sqrt(np.mean(e ** 2)), rel=1e-5)
    assert m["mae"] == pytest.approx(np.mean(np.abs(e)), rel=1e-5)
    assert m["absrel"] == pytest.approx((0.1 / 1 + 0.2 / 2 + 1.0 / 4) / 3, rel=1e-5)
    # ratios max(p/g, g/p): 1.1, 1.111, 1.25 -> 1.25 is not < 1.25
    assert m["delta1"] == pytest.approx(2 / 3)
    assert m["delta2"] == 1.0 and m["delta3"] == 1.0


def test_units_scale_errors_not_ratios():
    gt = np.full((4, 4), 2.0, np.float32)
    pred = gt + 0.01
    m_m, m_cm, m_mm = (compute_metrics(pred, gt, unit=u) for u in ("m", "cm", "mm"))
    assert m_cm["rmse"] == pytest.approx(100 * m_m["rmse"], rel=1e-6)
    assert m_mm["mae"] == pytest.approx(1000 * m_m["mae"], rel=1e-6)
    assert m_cm["absrel"] == pytest.approx(m_m["absrel"])
    with pytest.raises(ValueError):
        compute_metrics(pred, gt, unit="furlong")


def test_nan_prediction_counted_in_coverage():
    gt = np.ones((2, 2), np.float32)
    pred = np.array([[1.0, np.nan], [1.5, 0.0]], np.float32)
    m = compute_metrics(pred, gt)
    assert m["n_valid"] == 4 and m["n_missing"] == 2 and m["coverage"] == 0.5
    assert m["rmse"] == pytest.approx(math.sqrt(0.25 / 2))


def test_crop_and_mask():
    gt = np.ones((10, 10), np.float32)
    assert valid_mask(gt, crop=2).sum() == 36
    pred = np.ones_like(gt)
    pred[0, :] = 5.0                      # only in the border
    assert compute_metrics(pred, gt, crop=1)["rmse"] == 0.0
    mask = np.zeros_like(gt, bool)
    mask[5, 5] = True
    assert compute_metrics(pred, gt, mask=mask)["n_valid"] == 1


def test_quantize_0_255():
    gt = np.array([[10.0, 20.0]], np.float32)
    pred = np.array([[10.4, 21.6]], np.float32)
    m = compute_metrics(pred, gt, unit="255", quantize=True)
    assert m["rmse"] == pytest.approx(math.sqrt((0 + 4) / 2))


def test_edge_band_and_edge_rmse():
    gt = np.ones((20, 20), np.float32)
    gt[:, 10:] = 3.0                      # a vertical step between columns 9 and 10
    band = edge_band(gt, width=2)
    assert band[:, 7:13].all() and not band[:, :7].any() and not band[:, 13:].any()
    pred = gt.copy()
    pred[:, 9] = 2.0                      # error of 1 m on one column next to the edge
    m = compute_metrics(pred, gt, edge_width=2)
    assert m["n_edge"] == 20 * 6
    assert m["edge_rmse"] == pytest.approx(math.sqrt(20 / 120))
    # holes are not edges
    g2 = np.ones((10, 10), np.float32)
    g2[4:6, 4:6] = 0
    assert not edge_band(g2, width=0).any()


def test_aggregate_mean_of_frames():
    a = aggregate([{"rmse": 1.0, "mae": 1.0}, {"rmse": 3.0, "mae": float("nan")}], keys=("rmse", "mae", "absrel"))
    assert a["rmse"] == 2.0 and a["mae"] == 1.0 and math.isnan(a["absrel"]) and a["n_frames"] == 2

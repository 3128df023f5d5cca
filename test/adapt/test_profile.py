"""Sensor profile estimation checked against the values used to make the recording."""
import numpy as np
import pytest

from dsr_diff_ros.adapt.profile import SensorProfile, estimate_noise, estimate_offset, estimate_profile
from dsr_diff_ros.adapt.simulate import SimSensor, simulate
from tests_common import shared_or_skip

from .conftest import SENSOR


def test_profile_of_a_known_sensor(sim_frames):
    p = estimate_profile(*sim_frames)
    assert p.lr_size == (44, 33) and p.rgb_size == (160, 120) and p.ratio == pytest.approx(160 / 44, abs=1e-3)
    assert p.noise_law == "linear"
    assert p.noise_coef == pytest.approx(0.04, rel=0.2)           # ToF noise 4 % of depth
    assert abs(p.offset_px[0] - 5.0) < 1.0 and abs(p.offset_px[1]) < 1.0
    assert 0.04 < p.hole_rate < 0.3 and p.frames == 16
    assert SensorProfile.from_dict(p.to_dict()) == p


@pytest.mark.parametrize("offset", [(0.0, 0.0), (-4.0, 3.0), (6.0, -2.0)])
def test_offset_follows_the_misregistration(scenes, offset):
    rgb, lr = simulate(*scenes, SimSensor(lr_size=(44, 33), noise_std=0.03, offset_px=offset, seed=1))
    (dx, dy), score = estimate_offset(rgb, lr)
    assert abs(dx - offset[0]) < 1.0 and abs(dy - offset[1]) < 1.0 and score > 1.2


def test_noise_law_and_slope():
    rng = np.random.default_rng(0)
    z = np.repeat(np.linspace(0.5, 4.0, 80, dtype=np.float32)[:, None], 60, 1)  # planes from 0.5 to 4 m
    tof = [z + 0.03 * z * rng.standard_normal(z.shape).astype(np.float32) for _ in range(3)]
    sl = [z + 0.004 * z * z * rng.standard_normal(z.shape).astype(np.float32) for _ in range(3)]
    a, b = estimate_noise(tof), estimate_noise(sl)
    assert a["noise_law"] == "linear" and a["noise_coef"] == pytest.approx(0.03, rel=0.1)
    assert b["noise_law"] == "quadratic" and b["noise_coef"] == pytest.approx(0.004, rel=0.1)
    assert estimate_noise([np.zeros((10, 10), np.float32)])["noise_coef"] == 0.0   # no valid pixels: no claim


def test_profile_on_middlebury():
    """Real scenes (shared data): ToF 4 %, offset (5, 2) px, ratio 3.46 as in bench/bench_adapt.py."""
    import cv2

    root = shared_or_skip("middlebury_train")
    rgbs, depths = [], []
    for cp in sorted(root.glob("*_color.png"))[:8]:
        c = cv2.cvtColor(cv2.imread(str(cp)), cv2.COLOR_BGR2RGB)[:368, :408]
        v = cv2.imread(str(cp).replace("_color", "_depth"), cv2.IMREAD_UNCHANGED)[:368, :408].astype(np.float32)
        rgbs.append(np.ascontiguousarray(c))
        depths.append(np.where(v > 0, 200.0 / np.maximum(v, 1), 0).astype(np.float32))
    rgb, lr = simulate(rgbs, depths, SimSensor(lr_size=(118, 106), noise_std=0.04, offset_px=(5.0, 2.0)))
    p = estimate_profile(rgb, lr)
    assert p.noise_law == "linear" and p.noise_coef == pytest.approx(0.04, rel=0.15)
    assert abs(p.offset_px[0] - 5.0) < 1.0 and abs(p.offset_px[1] - 2.0) < 1.0

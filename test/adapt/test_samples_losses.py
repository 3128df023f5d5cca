"""Cross-scale / real-scale samples and the self-supervised losses."""
import numpy as np
import pytest
import torch

from dsr_diff_ros.adapt import losses as L
from dsr_diff_ros.adapt.profile import SensorProfile
from dsr_diff_ros.adapt.samples import cross_scale_batch, prepare_frame, real_batch, sensor_of, shift_image

PROFILE = SensorProfile(lr_size=(44, 33), rgb_size=(160, 120), ratio=160 / 44, noise_law="linear", noise_coef=0.04,
                        hole_rate=0.05, offset_px=(5.0, 0.0))


@pytest.fixture(scope="module")
def frames(sim_frames):
    return [prepare_frame(r, d, PROFILE) for r, d in zip(*sim_frames)]


def test_prepare_frame_removes_the_offset(scenes, frames):
    f = frames[0]
    assert f.rgb_lr.shape == (33, 44, 3) and f.rgb_aligned.shape == (120, 160, 3)
    # the aligned colour is the original scene's colour again (away from the replicated border)
    err = np.abs(f.rgb_aligned[:, 8:-8].astype(int) - scenes[0][0][:, 8:-8].astype(int)).mean()
    assert err < 3.0
    moved = shift_image(scenes[0][0], 5.0, 0.0)
    assert np.abs(moved[:, 8:-8].astype(int) - f.rgb[:, 8:-8].astype(int)).mean() < 1.0


def test_second_degradation_keeps_the_sensor_noise_level():
    s = sensor_of(PROFILE)
    r = PROFILE.ratio
    assert s.noise == "linear" and s.noise_std == pytest.approx(0.04 * np.sqrt(1 - 1 / r ** 2))
    assert s.noise_std ** 2 + (0.04 / r) ** 2 == pytest.approx(0.04 ** 2)   # averaging keeps ~1/r of it


def test_batches(frames):
    rng = np.random.default_rng(0)
    x = cross_scale_batch(frames, PROFILE, rng, 3, 24)
    assert x["rgb"].shape == (3, 3, 24, 24) and x["target"].shape == (3, 1, 24, 24)
    assert x["depth_lr"].shape == (3, 1, 7, 7)           # 24 / 3.64, the recording's own ratio
    assert float(x["rgb"].max()) <= 1.0 and (x["target"] > 0).float().mean() > 0.5
    b = real_batch(frames, rng, 2, 12)
    assert b["depth_lr"].shape == (2, 1, 12, 12) and b["rgb"].shape == (2, 3, 44, 44)   # 12 LR px x 3.64
    assert b["rgb_aligned"].shape == b["rgb"].shape


def test_losses():
    s = torch.ones(1, 1, 1, 1) * 2.0
    lr = torch.full((1, 1, 4, 4), 2.0)
    lr[..., 0, 0] = 0                                        # a hole: ignored
    flat = torch.ones(1, 1, 16, 16)                           # 2 m everywhere (normalised 1)
    assert float(L.consistency(flat, s, lr)) == pytest.approx(0.0)
    assert float(L.consistency(flat * 0.5, s, lr)) == pytest.approx(0.5)
    assert float(L.cross_scale(flat[..., :4, :4], s, lr)) == pytest.approx(0.0)
    # edge term: a depth step where the colour has its edge costs less than one elsewhere
    rgb = torch.zeros(1, 3, 16, 16)
    rgb[..., 8:] = 1.0
    at, off = torch.zeros(1, 1, 16, 16), torch.zeros(1, 1, 16, 16)
    at[..., 8:] = 1.0
    off[..., 4:] = 1.0
    assert float(L.edge(at, rgb)) < 0.1 * float(L.edge(off, rgb))
    assert float(L.regulariser(flat, flat)) == 0.0

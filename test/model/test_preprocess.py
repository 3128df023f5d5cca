"""Normalisation: the scale is the farthest valid depth, not an isolated far spike (multipath, saturation)."""
import cv2
import numpy as np
import pytest
import torch

from dsr_diff_ros.model.preprocess import prepare, robust_max
from dsr_diff_ros.inference import Upscaler
from dsr_diff_ros.data.shared import SAMPLE, shared_path


def _frames():
    """Real depth frames (metres): the bundled Kinect sample, and the shared rgbd/ and NYU frames when present."""
    dirs = [SAMPLE] + [p for p in (shared_path("rgbd"), shared_path("nyu_v2_samples")) if p is not None]
    files = sorted(f for d in dirs for f in d.rglob("*_depth.png"))
    assert len(files) >= 5
    return [cv2.imread(str(f), cv2.IMREAD_UNCHANGED).astype(np.float32) / 1000 for f in files]


def _robust(d: np.ndarray) -> float:
    t = torch.from_numpy(d)[None, None]
    return float(robust_max(t, (t > 0).float()))


def test_a_spike_does_not_set_the_scale():
    d = np.full((30, 40), 2.0, np.float32)
    d[:, 20:] = 3.0
    d[10, 10] = 60.0                              # one far return, 20x every neighbour
    assert _robust(d) == 3.0
    d[10, 11] = 60.0                              # two side by side: a surface, not a spike
    assert _robust(d) == 60.0


def test_a_far_pixel_among_holes_counts():
    """Sparse input, or a far pixel with fewer than 3 valid neighbours (a far wall seen through holes at x16): too
    little evidence to call it a spike, so it counts."""
    d = np.zeros((20, 20), np.float32)
    d[2, 2], d[10, 10], d[15, 5] = 1.0, 4.0, 2.0
    assert _robust(d) == 4.0
    d[11, 11], d[9, 9] = 1.0, 1.0                 # two valid neighbours
    assert _robust(d) == 4.0
    d[9, 11] = 1.0                                # three: now it is a spike
    assert _robust(d) == 2.0


@pytest.mark.parametrize("step", [2, 4, 8])
def test_real_frames_keep_the_plain_max(step):
    """On real frames (nearest sampling keeps the sensor's own outliers), and on the simulated sensors of the
    evaluation protocol (noise, flying pixels, holes; x4-x16), the scale is the plain max."""
    from dsr_diff_ros.evaluation.protocols import make_lr

    for i, d in enumerate(_frames()):
        lr = d[::step, ::step]
        assert _robust(lr) == float(lr[lr > 0].max())
        for seed in range(3):
            lr = make_lr(d, 2 * step, "sensor", seed=100 * i + seed)
            assert _robust(lr) == float(lr[lr > 0].max()), (i, 2 * step, seed)


def test_prepare_clamps_a_spike_to_the_scale():
    d = torch.full((1, 1, 12, 16), 2.0)
    d[..., 5, 5] = 50.0
    p = prepare(d, torch.rand(1, 3, 48, 64), 4)
    assert float(p.scale) == 2.0 and float(p.lr[:, 0].max()) == 1.0


def test_upscale_is_not_thrown_by_one_far_pixel():
    """A real Kinect frame (x4) with one 60 m pixel added: the output elsewhere stays as it was (before the robust
    scale, the whole frame was squeezed into 1/15 of the range and its RMSE grew 15-37 % on NYU frames)."""
    torch.set_num_threads(2)
    up = Upscaler.from_pretrained(device="cpu")
    rgb = cv2.cvtColor(cv2.imread(str(SAMPLE / "000_color.png")), cv2.COLOR_BGR2RGB)
    lr = (cv2.imread(str(SAMPLE / "000_depth.png"), cv2.IMREAD_UNCHANGED).astype(np.float32) / 1000)[::4, ::4]
    lr = np.ascontiguousarray(lr)
    spiked = lr.copy()
    spiked[60, 80] = 60.0
    a, b = up.upscale(lr, rgb), up.upscale(spiked, rgb)
    far = np.ones(a.shape, bool)
    far[60 * 4 - 16:60 * 4 + 16, 80 * 4 - 16:80 * 4 + 16] = False
    assert np.isfinite(b).all() and b.max() <= lr.max() + 1e-3
    rel = np.sqrt(np.mean((a - b)[far] ** 2)) / np.sqrt(np.mean(a[far] ** 2))
    assert rel < 0.002, rel

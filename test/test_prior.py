"""The guidance prior of the shipped weights carries per-image information (real Kinect frames), the public
handle on it works, and textured colour on a flat surface does not leak into the depth."""
import numpy as np
import pytest
import torch

from dsr_diff_ros import Upscaler
from dsr_diff_ros.data.degradations import degrade
from dsr_diff_ros.data.folder import RGBDFolder
from dsr_diff_ros.evaluation.baselines import bicubic
from dsr_diff_ros.evaluation.metrics import compute_metrics
from dsr_diff_ros.evaluation.prior_ablation import prior_ablation
from tests_common import SAMPLE


@pytest.fixture(scope="module")
def up():
    return Upscaler.from_pretrained(device="cpu")


@pytest.fixture(scope="module")
def frames():
    folder = RGBDFolder(SAMPLE)
    out = []
    for i in range(len(folder)):
        s = folder.load(i)
        out.append((s.name, s.rgb, s.depth))
    return out


def test_guidance_handle_numpy_and_tensor(up, frames):
    _, rgb, gt = frames[0]
    lr = degrade(gt, 4, "sensor", rng=0)
    g = up.guidance(lr, rgb)
    zc = up.model.cfg.z_ch
    assert g.shape == (zc, -(-480 // 8), -(-640 // 8)) and g.dtype == np.float32 and np.abs(g).max() < 1
    # same prior, same output (without self-ensemble: a prior belongs to the input as given)
    assert np.array_equal(up.upscale(lr, rgb, ensemble=1), up.upscale(lr, rgb, guidance=g, ensemble=1))
    assert not np.array_equal(g, up.guidance(lr, rgb, seed=1))                   # other initial noise
    assert not np.array_equal(up.guidance(lr, rgb, steps=1), up.guidance(lr, rgb, steps=up.num_steps))
    # batched tensors: (B, z_ch, h, w) in, used per frame
    d = torch.from_numpy(lr)[None, None].repeat(2, 1, 1, 1)
    r = torch.from_numpy(rgb).permute(2, 0, 1)[None].repeat(2, 1, 1, 1)
    gb = up.guidance(d, r)
    assert gb.shape == (2, *g.shape) and torch.allclose(gb[0], torch.from_numpy(g), atol=1e-5)
    out = up.upscale(d, r, guidance=gb, ensemble=1)
    assert out.shape == (2, 1, 480, 640)
    assert np.allclose(out[0, 0].numpy(), up.upscale(lr, rgb, ensemble=1), atol=1e-4, equal_nan=True)
    with pytest.raises(ValueError, match="guidance"):
        up.upscale(lr, rgb, guidance=np.zeros((zc + 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        up.upscale(lr, rgb, guidance=np.full(g.shape, np.nan, np.float32))


@pytest.fixture(scope="module")
def ablation(up, frames):
    small = [(n, rgb[::2, ::2].copy(), d[::2, ::2].copy()) for n, rgb, d in frames]  # 320x240: fast
    return prior_ablation(up, small, scale=4, mode="sensor")


def test_priors_differ_between_frames_and_swapping_changes_the_output(up, frames, ablation):
    """No collapse to a constant: GRN's priors differ between frames, and another frame's prior changes the
    output measurably."""
    assert ablation["z_cosine_min"] < 0.99, ablation["z_cosine_min"]
    _, rgb, gt = frames[0]
    lr = degrade(gt, 4, "sensor", rng=0)
    other = up.guidance(degrade(frames[2][2], 4, "sensor", rng=0), frames[2][1])
    diff = np.nanmean(np.abs(up.upscale(lr, rgb) - up.upscale(lr, rgb, guidance=other)))
    assert diff > 1e-3, diff  # more than 1 mm on average
    assert [r["steps"] for r in ablation["steps"]] == list(range(1, up.num_steps + 1))


@pytest.mark.xfail(strict=True, reason="issue 10's prior target is not met by the v2 weights: after stage 2 the "
                   "oracle is only ~5 % better than one mean prior and GRN's prior does not beat it (docs/model.md)")
def test_prior_ablation_targets(ablation):
    """Oracle prior clearly better than one mean prior for all frames; GRN's recovers part of that gain."""
    s = {r["variant"]: r["rmse"] for r in ablation["summary"]}
    assert s["oracle"] <= 0.9 * s["mean z"], s
    assert s["GRN"] < s["mean z"], s


def test_flat_plane_under_textured_colour_stays_flat(up):
    """A slanted plane seen through strong texture (checkerboard + noise + stripes): the output must not be
    worse than bicubic and must not carry the texture (high-frequency energy of the error)."""
    H, W = 240, 320
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    gt = 1.5 + 0.002 * xx + 0.001 * yy
    rng = np.random.default_rng(0)
    check = (((xx // 8) + (yy // 8)) % 2) * 200
    stripes = 60 * (np.sin(xx * 0.9) > 0)
    rgb = np.clip(np.stack([check + stripes, 255 - check, check * 0.5 + 40], -1) + rng.normal(0, 10, (H, W, 3)),
                  0, 255).astype(np.uint8)
    lr = degrade(gt, 4, "bicubic")
    ours, base = up.upscale(lr, rgb), bicubic(lr, rgb)
    e_ours, e_base = compute_metrics(ours, gt)["rmse"], compute_metrics(base, gt)["rmse"]
    assert e_ours <= max(e_base, 1e-3), (e_ours, e_base)      # within 1 mm or better than bicubic

    def hf(x):  # std of the Laplacian of the error: a copied texture shows up here
        return float(np.std(np.diff(x - gt, 2, axis=1)[4:-4, 4:-4]))
    assert hf(ours) < 1e-3, hf(ours)                          # below 1 mm of second difference

"""Geometric self-ensemble: the eight grid symmetries and their inverses, the Upscaler's mean over them (default from
the weights' JSON), and what it buys on a real scene."""
import copy
import json
import shutil

import numpy as np
import pytest
import torch

from dsr_diff_ros import Upscaler
from dsr_diff_ros.data.degradations import degrade
from dsr_diff_ros.data.folder import RGBDFolder
from dsr_diff_ros.inference import WEIGHTS_DIR, WeightsError
from dsr_diff_ros.model.ensemble import SIZES, TRANSFORMS, batches, transforms
from dsr_diff_ros.pipeline import ENSEMBLE_SIZES
from dsr_diff_ros.training.export import set_default_ensemble
from tests_common import SAMPLE, shared_or_skip


def test_transforms_are_the_eight_symmetries_and_invert():
    x = torch.arange(2 * 3 * 5, dtype=torch.float32).reshape(1, 2, 3, 5)   # non-square: transposes change shape
    seen = set()
    for fwd, inv in TRANSFORMS:
        y = fwd(x)
        assert torch.equal(inv(y), x)
        assert sorted(y.flatten().tolist()) == sorted(x.flatten().tolist())   # values only move
        seen.add((tuple(y.shape), tuple(y.flatten().tolist())))
    assert len(seen) == 8 and [len(transforms(n)) for n in SIZES] == [1, 2, 4, 8] and SIZES == ENSEMBLE_SIZES
    assert torch.equal(transforms(1)[0][0](x), x)
    for bad in (0, 3, 16):
        with pytest.raises(ValueError, match="ensemble"):
            transforms(bad)


def test_batches_stack_copies_of_one_orientation_in_order():
    x = torch.zeros(1, 1, 3, 5)
    for n in SIZES:
        for per in (1, 2, 3, 4, 8):
            runs = batches(n, per)
            assert [p for run in runs for p in run] == list(transforms(n))   # all copies, in order, once
            assert all(1 <= len(run) <= per for run in runs)
            assert all(len({fwd(x).shape for fwd, _ in run}) == 1 for run in runs)   # one shape per batch
    assert [len(r) for r in batches(8, 4)] == [4, 4] and [len(r) for r in batches(8, 3)] == [3, 1, 3, 1]
    with pytest.raises(ValueError, match="per_batch"):
        batches(8, 0)


@pytest.fixture(scope="module")
def up():
    return Upscaler.from_pretrained(device="cpu")


@pytest.fixture(scope="module")
def frame():
    s = RGBDFolder(SAMPLE).load(1)
    return s.rgb[:240, :320].copy(), degrade(s.depth[:240, :320], 4, "sensor", rng=0)


def test_upscale_is_the_mean_over_the_transformed_inputs(up, frame):
    rgb, lr = frame
    d = torch.from_numpy(lr)[None, None]
    r = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    if (lr > 0).mean() < up.hole_hedge_max_valid:   # the hedge would fill every second copy (test/test_experts.py)
        up = copy.copy(up)
        up.hole_hedge_max_valid = 0.0
    for n in (2, 8):
        want = torch.stack([inv(up.upscale(fwd(d).contiguous(), fwd(r).contiguous(), ensemble=1))
                            for fwd, inv in transforms(n)]).mean(0)
        got = up.upscale(d, r, ensemble=n)
        assert got.shape == (1, 1, 240, 320)
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0, equal_nan=True)
        np.testing.assert_allclose(up.upscale(lr, rgb, ensemble=n), want[0, 0].numpy(), atol=1e-5)
    one = up.upscale(lr, rgb, ensemble=1)
    assert np.nanmean(np.abs(up.upscale(lr, rgb, ensemble=8) - one)) > 1e-4   # it does change the output
    # fill_holes=False keeps the input's support: NaN in the same places
    assert np.array_equal(np.isnan(up.upscale(lr, rgb, fill_holes=False, ensemble=8)),
                          np.isnan(up.upscale(lr, rgb, fill_holes=False, ensemble=1)))


def test_batched_copies_give_the_same_output_as_copies_in_turn(up, frame):
    # the GPU default stacks 4 copies per pass; each frame of a batch gets GRN's same noise, so stacking is exact
    rgb, lr = frame
    want = up.upscale(lr, rgb, ensemble=8)
    assert up.ensemble_batch == 1   # CPU: copies in turn
    try:
        for per in (2, 4):
            up.ensemble_batch = per
            np.testing.assert_allclose(up.upscale(lr, rgb, ensemble=8), want, atol=1e-5)
    finally:
        up.ensemble_batch = 1
    d = torch.from_numpy(lr)[None, None]
    r = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    both = up.upscale(torch.cat([d, d.flip(-1)]), torch.cat([r, r.flip(-1)]), ensemble=1)   # batch invariance
    torch.testing.assert_close(both[1:], up.upscale(d.flip(-1).contiguous(), r.flip(-1).contiguous(), ensemble=1),
                               atol=1e-5, rtol=0, equal_nan=True)


def test_default_comes_from_the_weights_and_bad_sizes_are_refused(up, frame, tmp_path):
    rgb, lr = frame
    assert up.default_ensemble == 8 and "ensemble=8" in repr(up)   # the shipped default's JSON
    assert Upscaler.from_pretrained(device="cpu", ensemble=2).default_ensemble == 2
    assert np.array_equal(up.upscale(lr, rgb), up.upscale(lr, rgb, ensemble=8))
    for bad in (3, 0, True, 2.0, "8"):
        with pytest.raises(ValueError, match="ensemble"):
            up.upscale(lr, rgb, ensemble=bad)
    with pytest.raises(ValueError, match="ensemble"):
        Upscaler.from_pretrained(device="cpu", ensemble=5)
    for suffix in (".safetensors", ".json"):
        shutil.copyfile(WEIGHTS_DIR / f"dsr_diff_default{suffix}", tmp_path / f"w{suffix}")
    set_default_ensemble(tmp_path / "w", 4, calibration={"how": "test"})
    assert Upscaler.from_pretrained(str(tmp_path / "w.safetensors"), device="cpu").default_ensemble == 4
    with pytest.raises(ValueError, match="ensemble"):
        set_default_ensemble(tmp_path / "w", 6)
    meta = json.loads((tmp_path / "w.json").read_text())
    meta["default_ensemble"] = 3
    (tmp_path / "w.json").write_text(json.dumps(meta))
    with pytest.raises(WeightsError, match="default_ensemble"):
        Upscaler.from_pretrained(str(tmp_path / "w.safetensors"), device="cpu")


def test_ensemble_lowers_the_error_on_a_real_scene(up):
    """A Middlebury tune scene at x4 (bicubic protocol): the mean of 8 is measurably better than one pass, and no
    worse than 4 (measured with the fifteenth session's x4 expert: 1.085 / 0.993 / 0.993 for 1 / 4 / 8 copies; the
    earlier experts gained from 4 to 8: 0.92x)."""
    from dsr_diff_ros.data.real import read_middlebury
    from dsr_diff_ros.evaluation.metrics import compute_metrics
    from dsr_diff_ros.evaluation.protocols import make_lr

    pair = next(p for p in read_middlebury(shared_or_skip("middlebury_train"), "tune") if p.name == "15")
    lr = make_lr(pair.depth, 4, "bicubic", 0)
    rmse = {n: compute_metrics(up.upscale(lr, pair.rgb, ensemble=n), pair.depth, unit="255")["rmse"] for n in (1, 4, 8)}
    assert rmse[8] < 0.95 * rmse[1] and rmse[4] < rmse[1] and rmse[8] <= 1.002 * rmse[4], rmse

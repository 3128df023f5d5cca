"""Pipeline: validation (no model needed: errors are raised before inference) and, with the real Upscaler,
end-to-end output sizes / NaN policy / points."""
import numpy as np
import pytest

from dsr_diff_ros.frame import Frame, Intrinsics
from dsr_diff_ros.pipeline import FrameError, Pipeline
from dsr_diff_ros import geometry
from tests_common import SAMPLE

RGB_K = Intrinsics(262.5, 262.5, 159.5, 119.5, 320, 240)
DEPTH_K = RGB_K.scaled(160, 120)


class NeverCalled:
    num_steps, default_steps = 4, 2

    def upscale(self, *a, **k):
        raise AssertionError("validation should have rejected the frame before inference")


def frame(**kw):
    rng = np.random.default_rng(0)
    f = Frame(rgb=rng.integers(0, 255, (240, 320, 3), dtype=np.uint8),
              depth=rng.uniform(1, 3, (120, 160)).astype(np.float32), rgb_info=RGB_K, depth_info=DEPTH_K,
              stamp_ns=123, frame_id="cam")
    return f.with_(**kw)


@pytest.mark.parametrize("kw,why", [
    (dict(rgb=np.zeros((0, 320, 3), np.uint8)), "rgb|empty"),
    (dict(rgb=np.zeros((240, 320), np.uint8)), "rgb must be"),
    (dict(depth=np.zeros((120, 160, 2), np.float32)), "depth must be"),
    (dict(depth=np.zeros((0, 0), np.float32), depth_info=None), "empty"),
    (dict(depth=np.full((120, 160), np.nan, np.float32)), "no valid"),
    (dict(depth=-np.ones((120, 160), np.float32)), "no valid"),
    (dict(rgb_info=DEPTH_K), "rgb camera info"),
    (dict(depth=np.ones((100, 160), np.float32), depth_info=None), "aspect"),
])
def test_bad_frames_raise_frame_error(kw, why):
    with pytest.raises(FrameError, match=why):
        Pipeline(NeverCalled()).process(frame(**kw))


def test_register_needs_infos_and_steps_validation():
    with pytest.raises(FrameError, match="camera infos"):
        Pipeline(NeverCalled(), register=True).process(frame(depth_info=None))
    p = Pipeline(NeverCalled())
    assert p.steps == 2
    with pytest.raises(ValueError):
        p.set_steps(5)
    with pytest.raises(ValueError):
        p.set_steps(0)
    assert p.set_steps(4) == 4


class Recorder:
    """Records the keyword arguments of each upscale call (a bicubic-sized constant output)."""
    num_steps, default_steps = 4, 2

    def __init__(self):
        self.calls = []

    def upscale(self, depth, rgb, **k):
        self.calls.append(k)
        return np.ones(rgb.shape[:2], np.float32)


def test_ensemble_is_passed_only_when_set_and_validated():
    rec = Recorder()
    p = Pipeline(rec)
    assert p.ensemble is None
    p.process(frame())
    assert "ensemble" not in rec.calls[-1]             # None: the upscaler's own default
    assert p.set_ensemble(4) == 4
    p.process(frame())
    assert rec.calls[-1]["ensemble"] == 4
    assert Pipeline(rec, ensemble=8).ensemble == 8
    for bad in (3, 0, True, 16):
        with pytest.raises(ValueError, match="ensemble"):
            p.set_ensemble(bad)
    assert p.ensemble == 4


@pytest.fixture(scope="module")
def upscaler():
    """Shipped weights on CPU; without them the real Upscaler around an untrained default DSRDiff."""
    try:
        from dsr_diff_ros import Upscaler
    except ImportError as e:
        pytest.skip(f"Upscaler not importable: {e}")
    try:
        return Upscaler.from_pretrained(None, device="cpu")
    except FileNotFoundError:
        import torch
        from dsr_diff_ros.model.config import ModelConfig
        from dsr_diff_ros.model.dsr_diff import DSRDiff
        torch.manual_seed(0)
        return Upscaler(DSRDiff(ModelConfig()), {"default_steps": 2}, torch.device("cpu"), model_id="untrained")


def real_frame():
    from dsr_diff_ros.data.folder import RGBDFolder
    from dsr_diff_ros.data.degradations import degrade
    import cv2
    s = RGBDFolder(SAMPLE).load(0)
    rgb = cv2.resize(s.rgb, (320, 240), interpolation=cv2.INTER_AREA)
    hr = cv2.resize(s.depth, (320, 240), interpolation=cv2.INTER_NEAREST)
    lr = degrade(hr, 2, rng=np.random.default_rng(0))
    return Frame(rgb=rgb, depth=lr, rgb_info=s.intrinsics.scaled(320, 240),
                 depth_info=s.intrinsics.scaled(lr.shape[1], lr.shape[0]), stamp_ns=5, frame_id="cam")


def test_real_upscaler_outputs(upscaler):
    f = real_frame()
    d = f.depth.copy()
    d[0, :10] = -1.0
    d[1, :10] = np.inf
    r = Pipeline(upscaler, steps=1, decimation=2).process(f.with_(depth=d))
    assert r.depth.shape == (240, 320) and r.depth.dtype == np.float32
    assert np.nanmin(r.depth) > 0 and r.sanitised == 20 and r.steps == 1
    assert r.points.shape == (120, 160, 3) and r.rgb.shape == (120, 160, 3)
    assert np.allclose(r.points, geometry.backproject(r.depth, f.rgb_info, 2), equal_nan=True)
    assert (r.stamp_ns, r.frame_id, r.input_hw, r.output_hw) == (5, "cam", f.depth.shape, (240, 320))
    r2 = Pipeline(upscaler, steps=1, register=True).process(f)
    assert r2.depth.shape == (240, 320) and r2.registered
    # non-integer ratio (320/120 = 2.67), no depth camera info (registered depth, same field of view)
    import cv2
    d3 = cv2.resize(f.depth, (120, 90), interpolation=cv2.INTER_NEAREST)
    r3 = Pipeline(upscaler, steps=1, compute_points=False).process(f.with_(depth=d3, depth_info=None))
    assert r3.points is None and r3.depth.shape == (240, 320) and r3.input_hw == (90, 120)
    assert np.isfinite(r3.depth).mean() > 0.3

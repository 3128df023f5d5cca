"""The public API: Upscaler with the shipped default weights (real forward passes)."""
import numpy as np
import pytest
import torch

from dsr_diff_ros import Upscaler
from dsr_diff_ros.data.degradations import degrade
from dsr_diff_ros.data.folder import RGBDFolder
from dsr_diff_ros.evaluation.baselines import bicubic
from dsr_diff_ros.evaluation.metrics import compute_metrics
from dsr_diff_ros.inference import WeightsError
from tests_common import SAMPLE


@pytest.fixture(scope="module")
def up():
    return Upscaler.from_pretrained(device="cpu")


@pytest.fixture(scope="module")
def frame():
    s = RGBDFolder(SAMPLE).load(0)
    return s.rgb, s.depth


def test_loads_shipped_default(up):
    assert up.device.type == "cpu" and up.num_steps == 4 and 1 <= up.default_steps <= 4
    assert up.model_id.startswith("dsr_diff_default@")
    n = sum(p.numel() for p in up.model.parameters())
    assert n <= 5_000_000


@pytest.mark.parametrize("lr_hw", [(60, 80), (90, 120), (15, 20)])  # x4, x2.67 (non-integer), x16
def test_numpy_in_numpy_out(up, frame, lr_hw):
    rgb = frame[0][::2, ::2].copy()  # 320x240
    depth = np.full(lr_hw, 2.0, np.float32)
    out = up.upscale(depth, rgb, steps=1)
    assert out.shape == (240, 320) and out.dtype == np.float32 and np.isfinite(out).all()
    assert abs(float(np.median(out)) - 2.0) < 0.1  # a flat wall stays a flat wall at 2 m


def test_depth_near_the_colour_resolution_warns_and_still_works(up, frame):
    """Depth already (nearly) at the colour resolution (upsampled or aligned to the colour image) is processed,
    with a UserWarning that there is little to super-resolve; a native x4 input does not warn."""
    import warnings

    rgb = frame[0][::2, ::2].copy()                                      # 320x240
    with pytest.warns(UserWarning, match="colour resolution"):
        out = up.upscale(np.full((240, 320), 2.0, np.float32), rgb)
    assert out.shape == (240, 320) and abs(float(np.median(out)) - 2.0) < 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        up.upscale(np.full((60, 80), 2.0, np.float32), rgb)


def test_tensor_batch_and_determinism(up, frame):
    rgb = torch.from_numpy(frame[0][::4, ::4].copy()).permute(2, 0, 1)[None].repeat(2, 1, 1, 1)
    d = torch.full((2, 1, 30, 40), 1.5)
    a = up.upscale(d, rgb, steps=2)
    assert a.shape == (2, 1, 120, 160) and torch.equal(a, up.upscale(d, rgb, steps=2))


def test_invalid_input_values(up, frame):
    rgb = frame[0][::4, ::4].copy()
    d = np.full((30, 40), 2.0, np.float32)
    d[:10, :10] = np.nan
    d[20, 20], d[21, 21], d[22, 22] = np.inf, -1.0, 0.0
    out = up.upscale(d, rgb)
    assert np.isfinite(out).all() and out.min() > 1.5
    holes = up.upscale(d, rgb, fill_holes=False)
    assert np.isnan(holes[:30, :30]).all() and np.isfinite(holes[100:, 100:]).all()
    assert np.isnan(up.upscale(np.zeros((30, 40), np.float32), rgb)).all()  # nothing valid -> nothing claimed


def test_bad_arguments(up, frame):
    rgb = frame[0][::4, ::4].copy()
    d = np.ones((30, 40), np.float32)
    with pytest.raises(ValueError, match="steps"):
        up.upscale(d, rgb, steps=0)
    with pytest.raises(ValueError, match="steps"):
        up.upscale(d, rgb, steps=up.num_steps + 1)
    with pytest.raises(ValueError, match="uint8"):
        up.upscale(d, rgb.astype(np.float32))
    with pytest.raises(ValueError, match="smaller than depth"):
        up.upscale(np.ones((200, 200), np.float32), rgb)
    with pytest.raises(ValueError, match="depth"):
        up.upscale(np.ones(30, np.float32), rgb)
    with pytest.raises(FileNotFoundError, match="not found"):
        Upscaler.from_pretrained("no_such_model")


def test_corrupt_weights_file_is_refused(tmp_path):
    from dsr_diff_ros.inference import resolve_weights

    st = resolve_weights(None)
    (tmp_path / "w.safetensors").write_bytes(st.read_bytes()[:1000])
    (tmp_path / "w.json").write_text(st.with_suffix(".json").read_text())
    with pytest.raises(WeightsError, match="w.safetensors: damaged weights file"):  # the recorded SHA-256 catches it
        Upscaler.from_pretrained(tmp_path / "w.safetensors")


def test_beats_bicubic_on_a_real_kinect_frame(up, frame):
    rgb, gt = frame
    lr = degrade(gt, 4, "sensor", rng=0)
    ours = compute_metrics(up.upscale(lr, rgb), gt)
    base = compute_metrics(bicubic(lr, rgb), gt)
    assert ours["coverage"] == 1.0
    assert ours["rmse"] < 0.9 * base["rmse"], (ours["rmse"], base["rmse"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (the CPU path is tested above)")
def test_cuda_path_agrees_with_cpu_and_keeps_tensors_on_the_gpu(up, frame):
    """device="auto" picks CUDA when present; fp16 autocast stays close to the fp32 CPU result on a real frame
    (median < 2 mm, 99th percentile < 1 cm), and a CUDA tensor batch comes back on the GPU."""
    gpu = Upscaler.from_pretrained(device="auto")
    assert gpu.device.type == "cuda"
    rgb, depth = frame
    lr = degrade(depth, 4.0, "bicubic")
    a, b = up.upscale(lr, rgb, steps=1), gpu.upscale(lr, rgb, steps=1)
    v = np.isfinite(a) & np.isfinite(b) & (depth > 0)
    assert v.mean() > 0.5 and float(np.median(np.abs(a - b)[v])) < 0.002 and float(np.percentile(np.abs(a - b)[v], 99)) < 0.01
    t = gpu.upscale(torch.from_numpy(lr)[None, None].cuda(), torch.from_numpy(rgb).permute(2, 0, 1)[None].cuda())
    assert t.device.type == "cuda" and t.shape[-2:] == depth.shape


def test_bad_tensor_inputs_and_arguments_are_refused_clearly(up, frame):
    """Tensor inputs get the checks NumPy inputs get; a float colour tensor outside [0, 1] (0-255 values, NaN) is
    refused rather than read as a different image; steps and seed must be ints."""
    rgb = torch.from_numpy(frame[0][::4, ::4].copy()).permute(2, 0, 1)[None]          # (1, 3, 120, 160) uint8
    d = torch.full((1, 1, 30, 40), 1.5)
    for bad_rgb, match in ((rgb.float(), r"\[0, 1\]"), (rgb.long(), "uint8"),
                           (torch.where(rgb == rgb.max(), float("nan"), rgb.float() / 255), "NaN")):
        with pytest.raises(ValueError, match=match):
            up.upscale(d, bad_rgb, ensemble=1)
    for bad_d, match in ((d.expand(2, -1, -1, -1), "same number"), (d[:0], "same number"), (d[..., :0], "same number"),
                         (torch.ones(1, 1, 240, 320), "smaller than depth"), (d > 1, "float tensor")):
        with pytest.raises(ValueError, match=match):
            up.upscale(bad_d, rgb, ensemble=1)
    with pytest.raises(ValueError, match="both be NumPy arrays or both torch tensors"):
        up.upscale(d[0, 0].tolist(), frame[0][::4, ::4].copy(), ensemble=1)
    for kw in ({"steps": 1.5}, {"steps": True}, {"seed": "a"}, {"seed": 1.5}):
        with pytest.raises(ValueError, match=next(iter(kw))):
            up.upscale(d, rgb, ensemble=1, **kw)
    with pytest.raises(ValueError, match="depth_hr"):
        up.upscale_oracle(d, rgb, torch.ones(1, 1, 100, 160), ensemble=1)
    ok = up.upscale(d, rgb.float() / 255, ensemble=1, steps=np.int64(1), seed=np.int64(3))
    assert ok.shape == (1, 1, 120, 160) and torch.isfinite(ok).all()


def test_integer_depth_warns_and_keeps_its_unit_and_cpu_half_precision_falls_back(up, frame):
    rgb = frame[0][::4, ::4].copy()
    d = np.full((30, 40), 2.0, np.float32)
    d[10:20, 10:20] = 1.0
    with pytest.warns(UserWarning, match="16UC1"):
        mm = up.upscale((d * 1000).astype(np.uint16), rgb, ensemble=1)
    np.testing.assert_allclose(mm / 1000, up.upscale(d, rgb, ensemble=1), atol=2e-3)   # the same output, in mm
    with pytest.raises(ValueError, match="float"):
        up.upscale(d > 1, rgb)
    with pytest.warns(UserWarning, match="CUDA only"):
        half = Upscaler.from_pretrained(device="cpu", precision="fp16", experts=False)
    assert half.precision == "fp32"


def test_output_stays_within_the_range_of_the_input_depth(up, frame):
    """No phantom surface nearer or farther than anything in the input (e.g. a large hole at a depth edge, a frame
    with two valid points), and never 0 (= invalid) where there was depth: each frame is limited to its input's
    range, at every self-ensemble size."""
    rgb = frame[0][::4, ::4].copy()
    d = np.full((30, 40), 3.0, np.float32)
    d[:, 20:] = 1.0                       # a depth edge
    d[5:25, 12:28] = 0.0                  # a large hole across it
    two = np.zeros((30, 40), np.float32)
    two[3, 3], two[25, 35] = 1.0, 10.0
    for lr in (d, two):
        for n in (1, 8):
            out = up.upscale(lr, rgb, ensemble=n)
            lo, hi = lr[lr > 0].min(), lr[lr > 0].max()
            assert np.isfinite(out).all() and out.min() >= lo and out.max() <= hi
    assert (up.upscale(two, rgb, ensemble=1) < 1.0 + 1e-6).any()   # the range is reached, not shrunk

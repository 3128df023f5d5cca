import cv2
import numpy as np
import pytest

CAMERA = "width: 64\nheight: 48\nfx: 50.0\nfy: 50.0\ncx: 31.5\ncy: 23.5\ndepth_scale: 0.001\n"


def write_frame(root, name, H=48, W=64, seed=0):
    rng = np.random.default_rng(seed)
    depth = np.full((H, W), 2000, np.uint16)
    depth[:, W // 2:] = 1200
    depth[rng.random((H, W)) < 0.05] = 0
    rgb = np.full((H, W, 3), 60, np.uint8)
    rgb[:, W // 2:] = 200
    cv2.imwrite(str(root / f"{name}_color.png"), rgb)
    cv2.imwrite(str(root / f"{name}_depth.png"), depth)


@pytest.fixture
def seq(tmp_path):
    """A tiny RGB-D sequence (3 frames, 64x48) in the NNN_color/NNN_depth + camera.yaml layout."""
    root = tmp_path / "seq"
    root.mkdir()
    (root / "camera.yaml").write_text(CAMERA)
    for i in range(3):
        write_frame(root, f"{i:03d}", seed=i)
    return root


class FakeUpscaler:
    """Stands in for dsr_diff_ros.Upscaler: bilinear upsampling; the oracle returns the GT."""
    num_steps, default_steps, model_id, config = 3, 3, "fake", {"ffm": "multiply"}

    def __init__(self):
        self.calls = []

    def upscale(self, depth_lr, rgb, steps=None, fill_holes=True):
        from dsr_diff_ros.evaluation.baselines import bilinear
        self.calls.append(steps)
        return bilinear(depth_lr, rgb)

    def upscale_oracle(self, depth_lr, rgb, depth_hr_gt, steps=None):
        return np.where(depth_hr_gt > 0, depth_hr_gt, 1.0).astype(np.float32)


@pytest.fixture
def fake_up():
    return FakeUpscaler()

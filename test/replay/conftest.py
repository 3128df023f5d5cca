"""Fixtures of the replay tests: a tiny synthetic RGB-D folder (160x120 colour, good depth) and bags built
from it (simulated 40x30 low-cost depth + ground truth), plus an Upscaler stand-in (bicubic baseline)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from dsr_diff_ros.replay.make_bag import MakeBagConfig, make_bag
from dsr_diff_ros.replay.models import BaselineUpscaler
from dsr_diff_ros.replay.sensor import SimSensorConfig

W, H, N = 160, 120, 4


def write_folder(root, n=N, w=W, h=H):
    """n frames of a slanted plane with a box in front (mm depth PNGs) + camera.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(n):
        d = 1500 + 4 * xx + 2 * yy
        d[30:70, 40 + i:90 + i] = 900
        d[:4, :10] = 0  # a hole
        rgb = np.stack([(xx * 255 // w), (yy * 255 // h), np.full_like(xx, 40 * i)], -1).astype(np.uint8)
        rgb[30:70, 40 + i:90 + i] = (200, 30, 30)
        cv2.imwrite(str(root / f"{i:03d}_color.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(root / f"{i:03d}_depth.png"), d.astype(np.uint16))
    (root / "camera.yaml").write_text(f"width: {w}\nheight: {h}\nfx: 130.0\nfy: 130.0\ncx: 79.5\ncy: 59.5\n"
                                      "depth_scale: 0.001\n")
    return root


@pytest.fixture(scope="session")
def frames_dir(tmp_path_factory):
    return write_folder(tmp_path_factory.mktemp("rgbd") / "seq")


@pytest.fixture(scope="session")
def sim_config():
    return SimSensorConfig(size=(40, 30), mode="sensor", seed=0)


@pytest.fixture(scope="session", params=["sqlite3", "mcap"])
def sim_bag(request, frames_dir, sim_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("bags") / f"sim_{request.param}"
    make_bag(frames_dir, out, MakeBagConfig(storage=request.param, sim=sim_config))
    return out


@pytest.fixture
def upscaler():
    return BaselineUpscaler("bicubic")

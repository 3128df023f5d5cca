"""RGB-D folder readers: the shipped layout, TUM's rgb.txt/depth.txt, and clear errors for bad input."""
import shutil

import cv2
import numpy as np
import pytest

from dsr_diff_ros.data.folder import DatasetError, RGBDFolder
from tests_common import SAMPLE


def test_sample_folder():
    f = RGBDFolder(SAMPLE)
    assert f.layout == "folder" and len(f) == 5
    s = f.load(0)
    assert s.rgb.shape == (480, 640, 3) and s.depth.dtype == np.float32
    assert 0.5 < np.median(s.depth[s.depth > 0]) < 6 and s.intrinsics.fx == 518.0


def test_tum_layout(tmp_path):
    rgb = np.zeros((48, 64, 3), np.uint8)
    (tmp_path / "rgb").mkdir()
    (tmp_path / "depth").mkdir()
    cv2.imwrite(str(tmp_path / "rgb/1.000.png"), rgb)
    cv2.imwrite(str(tmp_path / "depth/1.010.png"), np.full((48, 64), 5000, np.uint16))
    (tmp_path / "rgb.txt").write_text("# timestamp filename\n1.000 rgb/1.000.png\n2.000 rgb/2.000.png\n")
    (tmp_path / "depth.txt").write_text("1.010 depth/1.010.png\n")
    f = RGBDFolder(tmp_path)
    assert f.layout == "tum" and len(f) == 1  # 2.000 has no depth within 20 ms
    s = f.load(0)
    assert np.allclose(s.depth, 1.0) and s.stamp_ns == 1_000_000_000


def test_bad_frames_are_reported_and_skipped(tmp_path):
    for n in ("000", "001", "002"):
        shutil.copy(SAMPLE / f"{n}_color.png", tmp_path / f"{n}_color.png")
        shutil.copy(SAMPLE / f"{n}_depth.png", tmp_path / f"{n}_depth.png")
    shutil.copy(SAMPLE / "camera.yaml", tmp_path)
    (tmp_path / "001_depth.png").write_bytes(b"not a png")
    cv2.imwrite(str(tmp_path / "002_depth.png"), np.zeros((480, 640), np.uint16))
    f = RGBDFolder(tmp_path)
    assert [s.name for s in f] == ["000"]
    assert [n for n, _ in f.errors] == ["001", "002"]
    assert "001_depth.png" in f.errors[0][1] and "no valid pixel" in f.errors[1][1]
    with pytest.raises(DatasetError, match="001_depth.png"):
        list(RGBDFolder(tmp_path, skip_bad=False))


def test_unknown_layout(tmp_path):
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(DatasetError, match="unknown layout"):
        RGBDFolder(tmp_path)
    with pytest.raises(DatasetError, match="not a directory"):
        RGBDFolder(tmp_path / "nope")

"""The shared-data lookup (DSR_SHARED_DATA, else <repo>/../shared/data), and the shared RGB-D sequences when
present (skipped with the reason otherwise)."""
import numpy as np

from dsr_diff_ros.data import shared
from dsr_diff_ros.data.folder import RGBDFolder
from tests_common import shared_or_skip


def test_env_variable_wins_and_empty_folder_hides(tmp_path, monkeypatch):
    monkeypatch.setenv(shared.ENV, str(tmp_path))
    assert shared.shared_root() == tmp_path and shared.shared_path("rgbd") is None
    assert str(tmp_path) in shared.missing_reason("rgbd") and shared.ENV in shared.missing_reason("rgbd")
    (tmp_path / "rgbd").mkdir()
    assert shared.shared_path("rgbd") == tmp_path / "rgbd"


def test_default_is_relative_to_the_repository(monkeypatch):
    monkeypatch.delenv(shared.ENV, raising=False)
    assert shared.shared_root() == shared.REPO.parent / "shared" / "data"
    assert (shared.SAMPLE / "camera.yaml").is_file()          # bundled: never needs the shared folder


def test_shared_rgbd_sequences_load():
    root = shared_or_skip("rgbd")
    seqs = [d for d in sorted(root.iterdir()) if (d / "camera.yaml").is_file()]
    assert seqs, f"{root} holds no RGB-D sequence"
    for d in seqs:
        s = RGBDFolder(d).load(0)
        assert s.rgb.ndim == 3 and s.depth.shape == s.rgb.shape[:2] and s.depth.dtype == np.float32
        assert 0.2 < np.median(s.depth[s.depth > 0]) < 10, d.name   # metres

"""NYU v2 reader on a real MATLAB v7.3 (HDF5) file with the labeled set's layout (small images)."""
import h5py
import numpy as np
import pytest

from dsr_diff_ros.data.folder import DatasetError
from dsr_diff_ros.data.nyu import NYUv2


def test_reads_hdf5_mat_and_uses_the_449_test_split(tmp_path):
    n, w, h = 1449, 8, 6
    path = tmp_path / "nyu_depth_v2_labeled.mat"
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:  # MATLAB stores column-major: (N, 3, W, H) and (N, W, H)
        f["images"] = rng.integers(0, 255, (n, 3, w, h), dtype=np.uint8)
        depths = rng.uniform(0.5, 9.0, (n, w, h))
        f["depths"] = depths
    ds = NYUv2(path, split="test")
    assert len(ds) == 449
    s = ds.load(0)
    assert s.name == "nyu_1000" and s.rgb.shape == (h, w, 3) and s.depth.shape == (h, w)
    np.testing.assert_allclose(s.depth, depths[1000].T.astype(np.float32))
    assert len(NYUv2(path, split="train")) == 1000
    (tmp_path / "bad.mat").write_bytes(b"MATLAB 5.0 MAT-file, not HDF5")
    with pytest.raises(DatasetError, match="HDF5"):
        NYUv2(tmp_path / "bad.mat")

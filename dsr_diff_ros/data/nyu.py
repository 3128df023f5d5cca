"""NYU Depth v2 (labeled subset) reader: ``nyu_depth_v2_labeled.mat`` (MATLAB v7.3 = HDF5).

The file holds 1449 aligned RGB-D pairs at 640x480 with in-painted (dense) depth in metres. The split used
by the depth super-resolution literature (DKN, DCTNet, SGNet, ...) is: the first 1000 images train, the
last 449 test. h5py reads MATLAB's column-major arrays transposed, so on disk:
    images: (1449, 3, 640, 480) uint8   -> returned as (480, 640, 3) RGB
    depths: (1449, 640, 480)   float    -> returned as (480, 640) float32 metres

h5py is an optional dependency (``pip install h5py``); it is imported only when a file is opened.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..frame import Intrinsics
from .folder import DatasetError, RGBDSample

N_TOTAL, N_TRAIN, N_TEST = 1449, 1000, 449
# Colour camera intrinsics published with the NYU toolbox (camera_params.m), 640x480.
NYU_INTRINSICS = Intrinsics(518.857901, 519.469611, 325.582449, 253.736166, 640, 480)


def split_indices(split: str) -> range:
    """Indices of the standard split: "train" = 0..999, "test" = 1000..1448, "all" = 0..1448."""
    if split == "train":
        return range(0, N_TRAIN)
    if split == "test":
        return range(N_TRAIN, N_TOTAL)
    if split == "all":
        return range(0, N_TOTAL)
    raise ValueError(f"unknown NYU split {split!r} (expected 'train', 'test' or 'all')")


def _open_h5(path: Path):
    try:
        import h5py
    except ImportError:
        raise DatasetError(f"{path}: reading the NYU v2 .mat (MATLAB v7.3/HDF5) needs h5py; "
                           "install it with `pip install h5py`") from None
    try:
        return h5py.File(str(path), "r")
    except OSError as e:
        raise DatasetError(f"{path}: not a readable MATLAB v7.3/HDF5 file ({e})") from None


class NYUv2:
    """Samples of the labeled NYU v2 set.

    ``source``: path of nyu_depth_v2_labeled.mat, or any mapping with "images" (N, 3, W, H) and "depths"
    (N, W, H) arrays in the on-disk (transposed) layout (used by the tests).
    Iterating yields RGBDSample(name="nyu_%04d", rgb (480, 640, 3) uint8, depth (480, 640) float32 m).
    """

    def __init__(self, source, split: str = "test", limit: int | None = None):
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if not path.is_file():
                raise DatasetError(f"{path}: NYU v2 file not found (expected nyu_depth_v2_labeled.mat)")
            self._h5 = _open_h5(path)
            self.path = path
        else:
            self._h5, self.path = source, Path("<memory>")
        for key in ("images", "depths"):
            if key not in self._h5:
                raise DatasetError(f"{self.path}: no '{key}' array; not the labeled NYU v2 .mat")
        n = len(self._h5["depths"])
        idx = [i for i in split_indices(split) if i < n]
        if not idx:
            raise DatasetError(f"{self.path}: holds {n} images, none in the '{split}' split "
                               f"(standard split: first {N_TRAIN} train, last {N_TEST} test)")
        self.indices = idx[:limit] if limit else idx
        self.errors: list[tuple[str, str]] = []

    def __len__(self) -> int:
        return len(self.indices)

    def load(self, k: int) -> RGBDSample:
        i = self.indices[k]
        rgb = np.ascontiguousarray(np.asarray(self._h5["images"][i]).transpose(2, 1, 0)).astype(np.uint8)
        depth = np.ascontiguousarray(np.asarray(self._h5["depths"][i]).T).astype(np.float32)
        name = f"nyu_{i:04d}"
        if rgb.shape[:2] != depth.shape:
            raise DatasetError(f"{self.path}[{i}]: colour {rgb.shape} and depth {depth.shape} sizes differ")
        if not (depth > 0).any():
            raise DatasetError(f"{self.path}[{i}]: depth has no valid pixel")
        K = NYU_INTRINSICS if depth.shape == (480, 640) else NYU_INTRINSICS.scaled(depth.shape[1], depth.shape[0])
        return RGBDSample(name, rgb, depth, K, int(i * 1e9 / 30))

    def __iter__(self):
        for k in range(len(self)):
            try:
                yield self.load(k)
            except DatasetError as e:
                self.errors.append((f"nyu_{self.indices[k]:04d}", str(e)))

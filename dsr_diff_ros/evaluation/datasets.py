"""Finding evaluation data: RGB-D sequences (RGBDFolder), Middlebury/Lu-style folders of png pairs, NYU v2.

Every source iterates ``RGBDSample`` (depth in the source's units: metres for RGB-D and NYU, the raw 0-255
values for Middlebury/Lu) and has ``.errors``: (name, message) of samples reported and skipped.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import numpy as np

from ..data.folder import DatasetError, RGBDFolder, RGBDSample, read_rgb
from ..frame import Intrinsics

_COLOR_DIRS = ("RGB", "rgb", "color", "colour", "image", "images")
_DEPTH_DIRS = ("Depth", "depth", "gt", "GT", "Depth_gt", "depth_gt")
_PAIR_RE = re.compile(r"^(.+?)[_-](color|colour|rgb|image|depth|gt|disp)\.(png|npy|pgm|ppm|jpg)$", re.I)


def _read_raw_depth(path: Path) -> np.ndarray:
    if path.suffix.lower() == ".npy":
        try:
            d = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise DatasetError(f"{path}: not a readable .npy depth ({e})") from None
    else:
        d = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if d is None:
            raise DatasetError(f"{path}: missing or not a readable image")
    d = np.squeeze(d)
    if d.ndim == 3:  # an 8-bit depth saved as RGB: all channels equal
        d = d[..., 0]
    if d.ndim != 2:
        raise DatasetError(f"{path}: expected a single-channel depth map, got shape {d.shape}")
    return d.astype(np.float32)


class PairFolder:
    """Middlebury / Lu style folder of colour + depth pairs scored on the 0-255 scale.

    Layouts (auto-detected): ``<name>_color.png`` + ``<name>_depth.png`` (also rgb/image and gt/disp
    suffixes), or sub-folders ``RGB/<name>.png`` + ``Depth/<name>.png|.npy`` (also rgb/color, depth/gt).
    Depth values are returned as stored (0 = invalid); ``depth_div`` divides them (e.g. 257 for 16-bit
    maps of 8-bit data). Intrinsics are a nominal placeholder (not used by the metrics).
    """

    def __init__(self, root: str | os.PathLike, depth_div: float = 1.0):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"{self.root}: not a directory")
        self.depth_div = depth_div
        self.errors: list[tuple[str, str]] = []
        self.items: list[tuple[str, Path, Path]] = []
        cdir = next((self.root / d for d in _COLOR_DIRS if (self.root / d).is_dir()), None)
        ddir = next((self.root / d for d in _DEPTH_DIRS if (self.root / d).is_dir()), None)
        if cdir is not None and ddir is not None:
            depths = {p.stem: p for p in ddir.iterdir() if p.suffix.lower() in (".png", ".npy", ".pgm")}
            for p in sorted(cdir.iterdir()):
                if p.suffix.lower() in (".png", ".jpg", ".ppm", ".bmp"):
                    self.items.append((p.stem, p, depths.get(p.stem, ddir / f"{p.stem}.png")))
        else:
            col, dep = {}, {}
            for p in self.root.iterdir():
                m = _PAIR_RE.match(p.name)
                if m:
                    kind = m.group(2).lower()
                    (dep if kind in ("depth", "gt", "disp") else col)[m.group(1)] = p
            for n in sorted(col):
                self.items.append((n, col[n], dep.get(n, self.root / f"{n}_depth.png")))
        if not self.items:
            raise DatasetError(f"{self.root}: unknown layout (expected <name>_color.png + <name>_depth.png, "
                               "or RGB/ + Depth/ sub-folders)")

    def __len__(self) -> int:
        return len(self.items)

    def load(self, i: int) -> RGBDSample:
        name, cp, dp = self.items[i]
        rgb = read_rgb(cp)
        depth = _read_raw_depth(dp) / np.float32(self.depth_div)
        if rgb.shape[:2] != depth.shape:
            raise DatasetError(f"{dp}: depth size {depth.shape[::-1]} differs from colour size {rgb.shape[1::-1]} of {cp}")
        if not (depth > 0).any():
            raise DatasetError(f"{dp}: depth has no valid pixel")
        H, W = depth.shape
        return RGBDSample(name, rgb, depth, Intrinsics(W, W, (W - 1) / 2, (H - 1) / 2, W, H))

    def __iter__(self):
        for i in range(len(self)):
            try:
                yield self.load(i)
            except DatasetError as e:
                self.errors.append((self.items[i][0], str(e)))


def discover_sequences(path: str | os.PathLike) -> tuple[list[tuple[str, RGBDFolder]], list[tuple[str, str]]]:
    """RGB-D sequences at ``path``: the folder itself if it is one, else each sub-folder that is one.

    Returns ([(sequence name, RGBDFolder)], [(path, problem)] for sub-folders of unknown layout).
    Raises DatasetError naming the path when nothing usable is found.
    """
    root = Path(path)
    if not root.exists():
        raise DatasetError(f"{root}: no such file or directory")
    if not root.is_dir():
        raise DatasetError(f"{root}: not a directory (expected an RGB-D sequence folder or a folder of them)")
    try:
        return [(root.name, RGBDFolder(root, skip_bad=True))], []
    except DatasetError as first:
        seqs, problems = [], []
        for sub in sorted(p for p in root.iterdir() if p.is_dir()):
            try:
                seqs.append((sub.name, RGBDFolder(sub, skip_bad=True)))
            except DatasetError as e:
                problems.append((str(sub), str(e)))
        if not seqs:
            raise DatasetError(f"{root}: no RGB-D sequence found here or in its sub-folders ({first})") from None
        return seqs, problems


class RealSplit:
    """A split of the real training folders (``data.real``: RGB-D-D in metres, Middlebury as stored 0-255) as an
    evaluation source of RGBDSample; ``every`` keeps every n-th pair (faster benchmarks)."""

    def __init__(self, root: str | os.PathLike, kind: str, part: str = "tune", every: int = 1):
        from ..data.real import read_middlebury, read_rgbdd

        reader = {"rgbdd": read_rgbdd, "middlebury": read_middlebury}[kind]
        self.pairs = reader(root, part)[::every]
        self.errors: list[tuple[str, str]] = []

    def __len__(self) -> int:
        return len(self.pairs)

    def __iter__(self):
        for p in self.pairs:
            H, W = p.depth.shape
            yield RGBDSample(p.name, p.rgb, p.depth, Intrinsics(W, W, (W - 1) / 2, (H - 1) / 2, W, H))

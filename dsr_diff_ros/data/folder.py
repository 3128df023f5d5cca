"""Readers for folders of RGB-D frames: the ``NNN_color.png``/``NNN_depth.png`` + camera.yaml layout and
TUM RGB-D's rgb.txt/depth.txt layout (depth PNG scale 5000)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

from ..frame import Intrinsics


class DatasetError(ValueError):
    """A file or layout problem, with the offending path in the message."""


@dataclass
class RGBDSample:
    name: str
    rgb: np.ndarray        # (H, W, 3) uint8 RGB
    depth: np.ndarray      # (H, W) float32 metres, 0 invalid
    intrinsics: Intrinsics
    stamp_ns: int = 0


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise DatasetError(f"{path}: missing or not a readable image")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def read_depth(path: str | os.PathLike, scale: float) -> np.ndarray:
    """16-bit depth PNG -> float32 metres (0 invalid)."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise DatasetError(f"{path}: missing or not a readable image")
    if img.ndim != 2 or img.dtype != np.uint16:
        raise DatasetError(f"{path}: expected a single-channel 16-bit depth PNG, got {img.dtype} {img.shape}")
    return img.astype(np.float32) * np.float32(scale)


def read_camera_yaml(path: str | os.PathLike) -> tuple[Intrinsics, float]:
    """camera.yaml (width, height, fx, fy, cx, cy, depth_scale) -> (Intrinsics, depth_scale)."""
    try:
        c = yaml.safe_load(Path(path).read_text())
        return Intrinsics(float(c["fx"]), float(c["fy"]), float(c["cx"]), float(c["cy"]),
                          int(c["width"]), int(c["height"])), float(c.get("depth_scale", 0.001))
    except FileNotFoundError:
        raise DatasetError(f"{path}: camera.yaml not found") from None
    except (KeyError, TypeError, yaml.YAMLError) as e:
        raise DatasetError(f"{path}: not a valid camera.yaml ({e})") from None


TUM_DEFAULT = Intrinsics(525.0, 525.0, 319.5, 239.5, 640, 480)


def _read_tum_list(path: Path) -> list[tuple[float, str]]:
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            t, f = line.split()[:2]
            out.append((float(t), f))
    return out


class RGBDFolder:
    """A sequence of RGB-D frames from a folder, in either supported layout (auto-detected).

    Iterating yields ``RGBDSample``; ``errors`` collects (name, message) of frames that failed to load
    when ``skip_bad=True`` (one bad frame is reported and skipped, the rest still load).
    """

    def __init__(self, root: str | os.PathLike, skip_bad: bool = True, max_dt: float = 0.02):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"{self.root}: not a directory")
        self.skip_bad = skip_bad
        self.errors: list[tuple[str, str]] = []
        if (self.root / "rgb.txt").exists() and (self.root / "depth.txt").exists():
            self.layout = "tum"
            self.intrinsics, self.depth_scale = TUM_DEFAULT, 1.0 / 5000.0
            if (self.root / "camera.yaml").exists():
                self.intrinsics, _ = read_camera_yaml(self.root / "camera.yaml")
            rgb = _read_tum_list(self.root / "rgb.txt")
            dep = _read_tum_list(self.root / "depth.txt")
            dt = np.array([t for t, _ in dep])
            self.items = []
            for t, f in rgb:
                if len(dt) == 0:
                    break
                j = int(np.argmin(np.abs(dt - t)))
                if abs(dt[j] - t) <= max_dt:
                    self.items.append((Path(f).stem, self.root / f, self.root / dep[j][1], int(round(t * 1e9))))
        else:
            names = sorted({m.group(1) for p in self.root.iterdir()
                            if (m := re.match(r"^(.+)_color\.png$", p.name))})
            if not names:
                raise DatasetError(f"{self.root}: unknown layout (expected NNN_color.png/NNN_depth.png + "
                                   "camera.yaml, or TUM rgb.txt/depth.txt)")
            self.layout = "folder"
            self.intrinsics, self.depth_scale = read_camera_yaml(self.root / "camera.yaml")
            self.items = [(n, self.root / f"{n}_color.png", self.root / f"{n}_depth.png", int(i * 1e9 / 30))
                          for i, n in enumerate(names)]

    def __len__(self) -> int:
        return len(self.items)

    def load(self, i: int) -> RGBDSample:
        name, cp, dp, stamp = self.items[i]
        rgb, depth = read_rgb(cp), read_depth(dp, self.depth_scale)
        if rgb.shape[:2] != depth.shape:
            raise DatasetError(f"{dp}: depth size {depth.shape[::-1]} differs from colour size "
                               f"{rgb.shape[1::-1]} of {cp}")
        if not (depth > 0).any():
            raise DatasetError(f"{dp}: depth has no valid pixel")
        K = self.intrinsics
        if (K.width, K.height) != (rgb.shape[1], rgb.shape[0]):
            K = K.scaled(rgb.shape[1], rgb.shape[0])
        return RGBDSample(name, rgb, depth, K, stamp)

    def __iter__(self):
        for i in range(len(self)):
            try:
                yield self.load(i)
            except DatasetError as e:
                if not self.skip_bad:
                    raise
                self.errors.append((self.items[i][0], str(e)))

"""Real RGB-D training folders (RGB-D-D, Middlebury) read into memory, with a fixed tune/train split.

Layouts (see each folder's README):
  rgbdd_train/      <YYYYMMDDhhmmss>_color.jpg + _depth.png (16-bit mm, dense ToF registered to colour, 512x384)
  middlebury_train/ NN_color.png + NN_depth.png (8-bit, disparity-like: larger = nearer; hole-filled)
Splits: RGB-D-D by capture *date* (the id's first 8 digits) so near-duplicate shots stay on one side;
Middlebury by scene number. The ``tune`` part is what training validates on; it is never trained on.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .folder import DatasetError, read_rgb

RGBDD_TUNE_DATES = ("20200517", "20200708", "20200719")   # 32 of 343 scenes
MIDDLEBURY_TUNE = ("03", "09", "15", "21", "27")           # 5 of 27 scenes


@dataclass
class RealPair:
    name: str
    rgb: np.ndarray      # (H, W, 3) uint8 RGB
    depth: np.ndarray    # (H, W) float32; metres (RGB-D-D) or the 0-255 disparity-like value (Middlebury); 0 invalid
    kind: str            # "rgbdd" | "middlebury"


def _read_u16(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None or img.ndim != 2:
        raise DatasetError(f"{path}: missing or not a single-channel depth image")
    return img


def read_rgbdd(root: str | os.PathLike, part: str = "train") -> list[RealPair]:
    """RGB-D-D pairs of ``part`` ("train", "tune" or "all"); depth in metres."""
    out = []
    for dp in sorted(Path(root).glob("*_depth.png")):
        sid = dp.name[: -len("_depth.png")]
        tune = sid[:8] in RGBDD_TUNE_DATES
        if part == "all" or (part == "tune") == tune:
            d = _read_u16(dp).astype(np.float32) / 1000.0
            out.append(RealPair(sid, read_rgb(dp.with_name(sid + "_color.jpg")), d, "rgbdd"))
    if not out:
        raise DatasetError(f"{root}: no RGB-D-D pairs (<id>_color.jpg + <id>_depth.png) for part {part!r}")
    return out


def read_middlebury(root: str | os.PathLike, part: str = "train") -> list[RealPair]:
    """Middlebury pairs of ``part`` ("train", "tune" or "all"); depth = the 0-255 disparity-like value."""
    out = []
    for dp in sorted(Path(root).glob("*_depth.png")):
        sid = dp.name[: -len("_depth.png")]
        tune = sid in MIDDLEBURY_TUNE
        if part == "all" or (part == "tune") == tune:
            d = _read_u16(dp).astype(np.float32)
            out.append(RealPair(sid, read_rgb(dp.with_name(sid + "_color.png")), d, "middlebury"))
    if not out:
        raise DatasetError(f"{root}: no Middlebury pairs (NN_color.png + NN_depth.png) for part {part!r}")
    return out


def middlebury_to_metres(value: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Middlebury's disparity-like value -> a plausible metric depth for the sensor noise models: either the value
    itself scaled to a 1.5-5 m range (the field's protocol treats the value as depth) or depth = k / disparity."""
    v = value.astype(np.float32)
    valid = v > 0
    if rng.random() < 0.5:
        z = v / max(float(v.max()), 1.0) * rng.uniform(1.5, 5.0)
    else:
        z = np.where(valid, rng.uniform(60, 250) / np.maximum(v, 1.0), 0)
    return np.where(valid, z, 0).astype(np.float32)


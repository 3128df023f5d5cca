"""The unit of work shared by every front door: one RGB image and one low-resolution depth image."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

import numpy as np


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics (pixels) of an image of ``width`` x ``height``; REP 103 optical frame."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def scaled(self, width: int, height: int) -> "Intrinsics":
        """Intrinsics of the same camera resampled to ``width`` x ``height`` (pixel-area convention)."""
        sx, sy = width / self.width, height / self.height
        return Intrinsics(self.fx * sx, self.fy * sy, (self.cx + 0.5) * sx - 0.5,
                          (self.cy + 0.5) * sy - 0.5, int(width), int(height))

    def matrix(self) -> np.ndarray:
        """3x3 camera matrix K."""
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1]], np.float64)


@dataclass
class Frame:
    """One synchronized RGB + depth pair.

    rgb:        (H, W, 3) uint8, RGB order.
    depth:      (h, w) float32 metres; 0 or NaN = invalid. May be smaller than rgb (low-cost sensor).
    rgb_info:   intrinsics of the colour camera (the output grid).
    depth_info: intrinsics of the depth camera (None: depth is registered to rgb, any resolution).
    depth_to_rgb: optional (4, 4) rigid transform from the depth optical frame to the rgb optical frame
                (None: already registered).
    stamp_ns:   acquisition time in nanoseconds; frame_id: the rgb optical frame.
    """

    rgb: np.ndarray
    depth: np.ndarray
    rgb_info: Optional[Intrinsics] = None
    depth_info: Optional[Intrinsics] = None
    depth_to_rgb: Optional[np.ndarray] = None
    stamp_ns: int = 0
    frame_id: str = "camera_color_optical_frame"
    meta: dict = field(default_factory=dict)

    def with_(self, **kw) -> "Frame":
        return replace(self, **kw)

"""Frame -> PipelineResult: the one processing call shared by the ROS node and the bag replay.

Steps: validate the frame (FrameError on bad input), register depth to the colour camera if asked,
sanitise depth (NaN/Inf/negative -> invalid), ``upscaler.upscale`` to the RGB grid, NaN for invalid,
optional organized point array, per-stage timings.

Geometry assumptions (explicit):
* ``register=False`` (default): depth is already registered to the colour camera and covers the same field of
  view, at any resolution (ratio may be non-integer). Camera infos are optional in this mode. If the depth
  and colour aspect ratios differ by more than 2 %, the frame is rejected (FrameError): a registered depth
  with another aspect ratio would be stretched; use ``register=True`` with both camera infos instead.
* ``register=True``: ``rgb_info`` and ``depth_info`` are required; ``depth_to_rgb`` (4x4, depth optical ->
  rgb optical) defaults to identity. Depth is reprojected onto the rgb intrinsics scaled to the depth width
  (``geometry.lr_grid_for``), then upsampled.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from . import geometry
from .frame import Frame, Intrinsics


ENSEMBLE_SIZES = (1, 2, 4, 8)   # self-ensemble sizes (model/ensemble.py); None: the upscaler's default


class FrameError(ValueError):
    """The frame cannot be processed (the message says why); nothing is output for it."""


@dataclass
class PipelineResult:
    """Output of one frame.

    depth:      (H, W) float32 metres, NaN invalid, on the rgb grid.
    info:       Intrinsics of ``depth`` (= frame.rgb_info; None if the frame had none).
    points:     (H', W', 3) float32 metres in the rgb optical frame, NaN invalid (H' = ceil(H/decimation)),
                or None (no intrinsics or compute_points=False).
    rgb:        (H', W', 3) uint8 colours of ``points`` or None.
    timings_ms: {"validate", "register", "infer", "points", "total"}.
    """

    depth: np.ndarray
    info: Optional[Intrinsics]
    points: Optional[np.ndarray]
    rgb: Optional[np.ndarray]
    stamp_ns: int
    frame_id: str
    steps: int
    input_hw: tuple[int, int]
    output_hw: tuple[int, int]
    valid_ratio_in: float
    valid_ratio_out: float
    sanitised: int = 0          # pixels that were NaN/Inf/negative in the input
    registered: bool = False
    timings_ms: dict = field(default_factory=dict)


class Pipeline:
    """Wraps an Upscaler-like object (``upscale(depth_lr_m, rgb_u8, steps, fill_holes[, ensemble])``, ``num_steps``,
    ``default_steps``) with validation, registration and point-cloud geometry. ``ensemble`` (1, 2, 4, 8) is passed
    to ``upscale`` when set; None leaves the upscaler's default."""

    def __init__(self, upscaler, steps: Optional[int] = None, register: bool = False, fill_holes: bool = False,
                 compute_points: bool = True, decimation: int = 1, aspect_tol: float = 0.02,
                 ensemble: Optional[int] = None):
        self.upscaler = upscaler
        self.register = bool(register)
        self.fill_holes = bool(fill_holes)
        self.compute_points = bool(compute_points)
        self.decimation = max(1, int(decimation))
        self.aspect_tol = float(aspect_tol)
        self.steps = None
        self.set_steps(steps)
        self.ensemble = None
        self.set_ensemble(ensemble)

    @property
    def max_steps(self) -> int:
        return int(getattr(self.upscaler, "num_steps", 1000))

    def set_steps(self, steps: Optional[int]) -> int:
        """Set the diffusion steps (None: the upscaler's default). Raises ValueError outside 1..num_steps."""
        if steps is None:
            steps = int(getattr(self.upscaler, "default_steps", 1))
        steps = int(steps)
        if not 1 <= steps <= self.max_steps:
            raise ValueError(f"steps must be in 1..{self.max_steps}, got {steps}")
        self.steps = steps
        return steps

    def set_ensemble(self, ensemble: Optional[int]) -> Optional[int]:
        """Set the self-ensemble size (None: the upscaler's default). Raises ValueError unless 1, 2, 4 or 8."""
        if ensemble is not None and (isinstance(ensemble, bool) or ensemble not in ENSEMBLE_SIZES):
            raise ValueError(f"ensemble must be one of {ENSEMBLE_SIZES}, got {ensemble!r}")
        self.ensemble = None if ensemble is None else int(ensemble)
        return self.ensemble

    # ------------------------------------------------------------------------------------------ checks
    def _validate(self, f: Frame) -> tuple[np.ndarray, np.ndarray]:
        rgb, depth = f.rgb, f.depth
        if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise FrameError(f"rgb must be (H, W, 3) uint8, got {getattr(rgb, 'dtype', type(rgb))} "
                             f"{getattr(rgb, 'shape', '')}")
        if not isinstance(depth, np.ndarray) or depth.ndim != 2:
            raise FrameError(f"depth must be (h, w), got {getattr(depth, 'shape', type(depth))}")
        if rgb.size == 0 or depth.size == 0:
            raise FrameError(f"empty image (rgb {rgb.shape[1::-1]}, depth {depth.shape[::-1]})")
        if depth.dtype.kind not in "fui":
            raise FrameError(f"depth dtype {depth.dtype} is not numeric")
        H, W = rgb.shape[:2]
        for name, k in (("rgb", f.rgb_info), ("depth", f.depth_info)):
            if k is not None and not (np.isfinite([k.fx, k.fy, k.cx, k.cy]).all() and k.fx > 0 and k.fy > 0):
                raise FrameError(f"{name} camera info has invalid intrinsics (fx={k.fx}, fy={k.fy}, cx={k.cx}, "
                                 f"cy={k.cy}; focal lengths must be finite and > 0)")
        if f.rgb_info is not None and (f.rgb_info.width, f.rgb_info.height) != (W, H):
            raise FrameError(f"rgb camera info is {f.rgb_info.width}x{f.rgb_info.height} but the rgb image "
                             f"is {W}x{H}")
        if f.depth_info is not None and (f.depth_info.width, f.depth_info.height) != depth.shape[::-1]:
            raise FrameError(f"depth camera info is {f.depth_info.width}x{f.depth_info.height} but the depth "
                             f"image is {depth.shape[1]}x{depth.shape[0]}")
        if self.register:
            if f.rgb_info is None or f.depth_info is None:
                raise FrameError("registration needs both camera infos (rgb and depth)")
        else:
            h, w = depth.shape
            if abs((W / H) / (w / h) - 1.0) > self.aspect_tol:
                raise FrameError(f"depth {w}x{h} and rgb {W}x{H} have different aspect ratios; registered "
                                 "depth must cover the rgb field of view (enable registration with camera infos)")
        return rgb, depth

    # ---------------------------------------------------------------------------------------- process
    def process(self, frame: Frame) -> PipelineResult:
        t0 = time.perf_counter()
        rgb, depth = self._validate(frame)
        d = depth.astype(np.float32, copy=True)
        bad = ~geometry.valid_mask(d)
        sanitised = int(np.count_nonzero(~np.isnan(d) & bad & (d != 0)))
        d[bad] = np.nan
        valid_in = float(1.0 - np.count_nonzero(bad) / d.size)
        t1 = time.perf_counter()
        registered = False
        if self.register:
            T = frame.depth_to_rgb
            grid = geometry.lr_grid_for(frame.rgb_info, d.shape)
            try:
                d = geometry.register_depth(d, frame.depth_info, grid, T)
            except ValueError as e:
                raise FrameError(f"registration failed: {e}") from None
            registered = True
        t2 = time.perf_counter()
        if not np.isfinite(d).any():
            raise FrameError("depth has no valid pixel" + (" after registration" if registered else ""))
        kw = {} if self.ensemble is None else {"ensemble": self.ensemble}
        out = self.upscaler.upscale(d, rgb, steps=self.steps, fill_holes=self.fill_holes, **kw)
        out = np.asarray(out, np.float32)
        if out.shape != rgb.shape[:2]:
            raise RuntimeError(f"upscaler returned {out.shape}, expected {rgb.shape[:2]}")
        out = np.where(geometry.valid_mask(out), out, np.float32(np.nan))
        t3 = time.perf_counter()
        points = colours = None
        if self.compute_points and frame.rgb_info is not None:
            points = geometry.backproject(out, frame.rgb_info, self.decimation)
            n = self.decimation
            colours = rgb[::n, ::n]
        t4 = time.perf_counter()
        ms = lambda a, b: (b - a) * 1e3  # noqa: E731
        return PipelineResult(
            depth=out, info=frame.rgb_info, points=points, rgb=colours, stamp_ns=int(frame.stamp_ns),
            frame_id=frame.frame_id, steps=self.steps, input_hw=tuple(depth.shape), output_hw=tuple(out.shape),
            valid_ratio_in=valid_in, valid_ratio_out=float(np.isfinite(out).mean()), sanitised=sanitised,
            registered=registered,
            timings_ms={"validate": ms(t0, t1), "register": ms(t1, t2), "infer": ms(t2, t3),
                        "points": ms(t3, t4), "total": ms(t0, t4)})

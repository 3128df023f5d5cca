"""Hypothesis strategies of hostile sensor messages (shared by the decoder, pipeline, replay and node fuzzers).

Sizes stay small (data <= 64 KiB) so each example is fast; "huge" sizes are claimed in the header fields, never
allocated."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from dsr_diff_ros.convert import ENCODINGS

EDGE_DIMS = st.sampled_from([0, 1, 2, 3, 7, 16, 2**16, 2**31 - 1, 2**32 - 1])
DIMS = st.one_of(st.integers(1, 48), EDGE_DIMS)
ENCODING = st.one_of(st.sampled_from(sorted(ENCODINGS)),
                     st.sampled_from(["yuv422", "bayer_rggb8", "8UC3", "32FC3", "64FC1", "", "RGB8", "16uc1"]),
                     st.text(max_size=12))
BAD_FLOATS = st.sampled_from([0.0, -0.0, -1.0, -1e9, float("nan"), float("inf"), float("-inf"), 1e-300, 1e300])
ANY_FLOAT = st.one_of(BAD_FLOATS, st.floats(-2e3, 2e3, allow_nan=False))


@st.composite
def image_fields(draw):
    """Fields of a sensor_msgs/Image: any encoding, sizes, step, data length (short/long) and endianness."""
    enc = draw(ENCODING)
    h, w = draw(DIMS), draw(DIMS)
    itemsize, ch = (np.dtype(ENCODINGS[enc][0]).itemsize, ENCODINGS[enc][1]) if enc in ENCODINGS else (1, 1)
    row = w * itemsize * ch
    step = draw(st.one_of(st.just(row), st.integers(0, 4 * row + 8), st.sampled_from([0, 1, row - 1, row + 3,
                                                                                       2**32 - 1])))
    step = max(0, min(step, 2**32 - 1))
    need = step * max(h - 1, 0) + row
    n = draw(st.one_of(st.just(need), st.integers(0, 64), st.sampled_from([need - 1, need + 5, 0])))
    n = max(0, min(n, 1 << 16))
    data = draw(st.binary(min_size=n, max_size=n)) if n <= 256 else bytes(np.random.default_rng(n).integers(
        0, 256, n, dtype=np.uint8))
    return dict(encoding=enc, height=h, width=w, step=step, data=data, is_bigendian=draw(st.sampled_from([0, 1])))


@st.composite
def info_fields(draw):
    """Fields of a sensor_msgs/CameraInfo with zeros, NaN, Inf and negative focal lengths, odd sizes/binning."""
    fx, fy, cx, cy = (draw(ANY_FLOAT) for _ in range(4))
    k = [fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0]
    p = draw(st.one_of(st.just([0.0] * 12), st.just([fx, 0.0, cx, 0.0, 0.0, fy, cy, 0.0, 0.0, 0.0, 1.0, 0.0]),
                       st.lists(ANY_FLOAT, min_size=12, max_size=12)))
    return dict(width=draw(DIMS), height=draw(DIMS), k=k, p=p, binning_x=draw(st.sampled_from([0, 1, 2, 3, 2**31])),
                binning_y=draw(st.sampled_from([0, 1, 2, 7])))


def depth_values(shape=(12, 16)):
    """Depth maps (metres) that are all NaN / zero / negative / Inf, or mixtures of those with valid values."""
    fill = st.sampled_from([np.nan, 0.0, -1.0, np.inf, -np.inf, 1e-12, 1e30])
    pure = fill.map(lambda v: np.full(shape, v, np.float32))
    mixed = st.lists(st.one_of(fill, st.floats(0.2, 8.0)), min_size=shape[0] * shape[1],
                     max_size=shape[0] * shape[1]).map(lambda v: np.array(v, np.float32).reshape(shape))
    return st.one_of(pure, mixed)


COMPRESSED = st.one_of(
    st.binary(max_size=256),
    st.binary(max_size=64).map(lambda b: b"\x89PNG\r\n\x1a\n" + b),           # PNG signature, garbage after
    st.binary(max_size=64).map(lambda b: b"\xff\xd8\xff\xe0" + b),            # JPEG SOI, garbage after
    st.integers(0, 80).map(lambda n: _tiny_png()[:n]),                       # a real PNG cut short
    st.binary(min_size=12, max_size=12).map(lambda h: h + _tiny_png(16)),    # compressedDepth header + PNG
)


def _tiny_png(bits: int = 8) -> bytes:
    import cv2

    img = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 300) if bits == 16 else np.zeros((3, 4, 3), np.uint8)
    return cv2.imencode(".png", img)[1].tobytes()

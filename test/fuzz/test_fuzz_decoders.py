"""Property-based fuzzing of everything that decodes outside data: the ROS-free conversions (``convert``), the
replay's decoders (``replay.codec``, rosbags message classes) and the pipeline. Every input either decodes into
an array of the size its header claims or raises ``ConversionError`` / ``FrameError``; nothing else escapes."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rosbags.typesys import Stores, get_typestore

from dsr_diff_ros import convert
from dsr_diff_ros.convert import ConversionError
from dsr_diff_ros.frame import Frame, Intrinsics
from dsr_diff_ros.pipeline import FrameError, Pipeline
from dsr_diff_ros.replay import codec
from dsr_diff_ros.replay.models import BaselineUpscaler

from .strategies import COMPRESSED, depth_values, image_fields, info_fields

FUZZ = settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
TS = get_typestore(Stores.ROS2_KILTED).types
IMAGE, CIMAGE, INFO = "sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage", "sensor_msgs/msg/CameraInfo"


def _header():
    return TS["std_msgs/msg/Header"](stamp=TS["builtin_interfaces/msg/Time"](sec=1, nanosec=2), frame_id="cam")


def image_msg(f):
    return TS[IMAGE](header=_header(), height=f["height"], width=f["width"], encoding=f["encoding"],
                     is_bigendian=f["is_bigendian"], step=f["step"], data=np.frombuffer(f["data"], np.uint8))


@FUZZ
@given(image_fields())
def test_image_decoders_decode_or_raise_conversion_error(f):
    m = image_msg(f)
    for fn, shape in ((convert.image_to_array, None), (convert.rgb_from_image, (f["height"], f["width"], 3)),
                      (convert.depth_from_image, (f["height"], f["width"]))):
        try:
            a = fn(m)
        except ConversionError:
            continue
        want = shape or ((f["height"], f["width"]) + ((convert.ENCODINGS[f["encoding"]][1],)
                                                      if convert.ENCODINGS[f["encoding"]][1] > 1 else ()))
        assert a.shape == want
        if fn is convert.depth_from_image:
            assert a.dtype == np.float32
    for role in (codec.decode_rgb, codec.decode_depth):
        try:
            role(m, IMAGE)
        except ConversionError:
            pass


def test_big_endian_flag_is_honoured():
    d = np.array([[1.5, 2.0]], ">f4")
    m = image_msg(dict(encoding="32FC1", height=1, width=2, step=8, data=d.tobytes(), is_bigendian=1))
    assert convert.depth_from_image(m).tolist() == [[1.5, 2.0]]
    mm = np.array([[1000, 2500]], ">u2")
    m = image_msg(dict(encoding="16UC1", height=1, width=2, step=4, data=mm.tobytes(), is_bigendian=1))
    np.testing.assert_allclose(convert.depth_from_image(m), [[1.0, 2.5]])


@FUZZ
@given(COMPRESSED, st.sampled_from(["jpeg", "png", "rgb8; jpeg compressed bgr8", "16UC1; compressedDepth png",
                                    "32FC1; compressedDepth png", "", "garbage"]))
def test_compressed_garbage_raises_conversion_error(data, fmt):
    m = TS[CIMAGE](header=_header(), format=fmt, data=np.frombuffer(data, np.uint8))
    for fn in (codec.decode_rgb, codec.decode_depth):
        try:
            a = fn(m, CIMAGE)
        except ConversionError:
            continue
        assert a.ndim in (2, 3) and a.size > 0


@FUZZ
@given(info_fields())
def test_camera_info_zeros_nan_negative_focal(f):
    m = TS[INFO](header=_header(), height=f["height"], width=f["width"], distortion_model="plumb_bob",
                 d=np.zeros(5), k=np.array(f["k"], np.float64), r=np.eye(3).ravel(), p=np.array(f["p"], np.float64),
                 binning_x=f["binning_x"], binning_y=f["binning_y"],
                 roi=TS["sensor_msgs/msg/RegionOfInterest"](x_offset=0, y_offset=0, height=0, width=0,
                                                            do_rectify=False))
    try:
        k = convert.info_to_intrinsics(m)
    except ConversionError:
        return
    assert k.fx > 0 and k.fy > 0 and np.isfinite([k.fx, k.fy, k.cx, k.cy]).all()
    assert k.width >= 0 and k.height >= 0


PIPE = Pipeline(BaselineUpscaler("bicubic"), compute_points=True)
RGB = np.random.default_rng(0).integers(0, 255, (24, 32, 3), dtype=np.uint8)


@FUZZ
@given(depth_values(), st.sampled_from([(32, 24), (16, 12), (30, 24), (0, 24)]),
       st.sampled_from([1.0, 0.0, -5.0, float("nan"), 40.0]))
def test_pipeline_rejects_or_outputs_the_rgb_grid(depth, rgb_wh, fx):
    info = Intrinsics(fx, abs(fx) if fx == fx else fx, 15.5, 11.5, *rgb_wh)
    frame = Frame(rgb=RGB, depth=depth, rgb_info=info, depth_info=None, stamp_ns=7, frame_id="cam")
    try:
        r = PIPE.process(frame)
    except FrameError:
        return
    assert r.depth.shape == RGB.shape[:2] and r.stamp_ns == 7
    finite = r.depth[np.isfinite(r.depth)]
    assert finite.size and (finite > 0).all()                   # no NaN/0/negative/Inf leaks as a value
    valid_in = depth[np.isfinite(depth) & (depth > 0)]
    assert finite.max() <= valid_in.max() * 1.001 + 1e-6        # nothing beyond the measured range
    pts = r.points[np.isfinite(r.points[..., 2])]
    assert np.isfinite(pts).all()                               # no Inf/NaN coordinates for valid depth


@pytest.mark.parametrize("values", [np.nan, 0.0, -1.0, np.inf])
def test_all_invalid_depth_is_a_frame_error(values):
    frame = Frame(rgb=RGB, depth=np.full((12, 16), values, np.float32),
                  rgb_info=Intrinsics(30.0, 30.0, 15.5, 11.5, 32, 24), depth_info=None, stamp_ns=1, frame_id="c")
    with pytest.raises(FrameError):
        PIPE.process(frame)


def test_camera_info_binning_that_underflows_or_empties_is_refused():
    """The example hypothesis found: a denormal fx halved by binning is 0, a 1-pixel image binned by 2 is empty."""
    m = TS[INFO](header=_header(), height=1, width=1, distortion_model="plumb_bob", d=np.zeros(5),
                 k=np.array([5e-324, 0, 0, 0, 1, 0, 0, 0, 1], np.float64), r=np.eye(3).ravel(), p=np.zeros(12),
                 binning_x=2, binning_y=0,
                 roi=TS["sensor_msgs/msg/RegionOfInterest"](x_offset=0, y_offset=0, height=0, width=0, do_rectify=False))
    with pytest.raises(ConversionError, match="binned"):
        convert.info_to_intrinsics(m)

"""convert.py with rclpy message classes and with plain duck-typed objects (as rosbags gives)."""
from types import SimpleNamespace

import numpy as np
import pytest

from dsr_diff_ros.frame import Intrinsics
from dsr_diff_ros import convert as cv

sm = pytest.importorskip("sensor_msgs.msg")
from std_msgs.msg import Header  # noqa: E402


def ns_image(arr, enc, step=None, big=False):
    a = np.ascontiguousarray(arr)
    h, w = a.shape[:2]
    row = a.nbytes // h
    step = step or row
    raw = np.zeros((h, step), np.uint8)
    raw[:, :row] = a.view(np.uint8).reshape(h, row)
    return SimpleNamespace(height=h, width=w, encoding=enc, is_bigendian=int(big), step=step, data=raw.tobytes())


def test_rgb_encodings_roundtrip():
    rgb = np.random.default_rng(0).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    for enc, arr in [("rgb8", rgb), ("bgr8", rgb[..., ::-1]),
                     ("rgba8", np.dstack([rgb, np.full((5, 7), 9, np.uint8)])),
                     ("bgra8", np.dstack([rgb[..., ::-1], np.zeros((5, 7), np.uint8)]))]:
        m = cv.image_to_msg(arr, enc, Header(), sm.Image)
        assert (cv.rgb_from_image(m) == rgb).all()
        assert (cv.rgb_from_image(ns_image(arr, enc, step=m.step + 3)) == rgb).all()  # padded rows
    mono = cv.rgb_from_image(ns_image(rgb[..., 0], "mono8"))
    assert (mono[..., 2] == rgb[..., 0]).all()


def test_depth_decoding_and_encoding():
    mm = np.array([[0, 1000], [65535, 1500]], np.uint16)
    d = cv.depth_from_image(ns_image(mm, "16UC1"))
    assert d.dtype == np.float32 and d[0, 0] == 0 and d[0, 1] == pytest.approx(1.0)
    big = cv.depth_from_image(ns_image(mm.astype(">u2"), "16UC1", big=True))
    assert np.array_equal(big, d)
    f = np.array([[np.nan, 1.25], [np.inf, -np.inf]], np.float32)
    assert np.array_equal(cv.depth_from_image(ns_image(f, "32FC1", step=12)), f, equal_nan=True)
    out = np.array([[np.nan, 1.2345], [0.0, 70.0]], np.float32)
    m32 = cv.depth_to_msg(out, Header(), sm.Image)
    back = cv.depth_from_image(m32)
    assert m32.encoding == "32FC1" and np.isnan(back[0, 0]) and np.isnan(back[1, 0]) and back[0, 1] == out[0, 1]
    m16 = cv.depth_to_msg(out, Header(), sm.Image, "16UC1")
    assert cv.image_to_array(m16).tolist() in ([[0, 1234], [0, 0]], [[0, 1235], [0, 0]])


@pytest.mark.parametrize("kw,msg", [
    (dict(encoding="yuv422"), "not supported"),
    (dict(step=5), "step"),
    (dict(height=9), "needs"),
    (dict(width=0), "empty"),
])
def test_bad_images_raise(kw, msg):
    m = ns_image(np.zeros((4, 3), np.uint16), "16UC1")
    for k, v in kw.items():
        setattr(m, k, v)
    with pytest.raises(cv.ConversionError, match=msg):
        cv.depth_from_image(m)
    with pytest.raises(cv.ConversionError):
        cv.rgb_from_image(ns_image(np.zeros((4, 3), np.uint16), "16UC1"))


def test_camera_info_roundtrip():
    K = Intrinsics(500.0, 510.0, 320.5, 240.5, 640, 480)
    m = cv.intrinsics_to_info(K, Header(frame_id="cam"), sm.CameraInfo)
    assert m.header.frame_id == "cam" and m.width == 640
    assert cv.info_to_intrinsics(m) == K
    bad = sm.CameraInfo(width=640, height=480)
    with pytest.raises(cv.ConversionError):
        cv.info_to_intrinsics(bad)


def test_compressed():
    import cv2
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 200
    ok, png = cv2.imencode(".png", rgb[..., ::-1])
    m = SimpleNamespace(format="rgb8; png compressed bgr8", data=png.tobytes())
    assert (cv.rgb_from_compressed(m) == rgb).all()
    with pytest.raises(cv.ConversionError):
        cv.rgb_from_compressed(SimpleNamespace(format="png", data=b"xx"))


def test_point_cloud_layout():
    pts = np.random.default_rng(0).normal(size=(3, 4, 3)).astype(np.float32)
    pts[0, 0] = np.nan
    rgb = np.random.default_rng(1).integers(0, 255, (3, 4, 3), dtype=np.uint8)
    m = cv.points_to_cloud(pts, rgb, Header(), sm.PointCloud2, sm.PointField)
    assert [(f.name, f.offset, f.datatype) for f in m.fields] == [("x", 0, 7), ("y", 4, 7), ("z", 8, 7), ("rgb", 16, 7)]
    assert m.point_step == 32 and m.row_step == 128 and (m.height, m.width) == (3, 4) and not m.is_dense
    a = cv.cloud_to_array(m)
    assert np.array_equal(np.stack([a["x"], a["y"], a["z"]], -1), pts, equal_nan=True)
    assert (cv.unpack_rgb(a["rgb"]) == rgb).all()
    m2 = cv.points_to_cloud(pts, None, Header(), sm.PointCloud2, sm.PointField)
    assert m2.point_step == 16 and len(m2.fields) == 3


def test_rosbags_message_classes():
    ts = pytest.importorskip("rosbags.typesys").get_typestore(pytest.importorskip("rosbags.typesys").Stores.ROS2_HUMBLE)
    T = ts.types
    hdr = T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=1, nanosec=5), frame_id="f")
    d = np.array([[1.0, np.nan]], np.float32)
    m = cv.depth_to_msg(d, hdr, T["sensor_msgs/msg/Image"])
    raw = ts.serialize_cdr(m, "sensor_msgs/msg/Image")
    back = ts.deserialize_cdr(raw, "sensor_msgs/msg/Image")
    assert np.array_equal(cv.depth_from_image(back), d, equal_nan=True)
    K = Intrinsics(5.0, 5.0, 1.0, 1.0, 2, 1)
    info = cv.intrinsics_to_info(K, hdr, T["sensor_msgs/msg/CameraInfo"], T["sensor_msgs/msg/RegionOfInterest"])
    ts.serialize_cdr(info, "sensor_msgs/msg/CameraInfo")
    assert cv.info_to_intrinsics(info) == K
    pc = cv.points_to_cloud(np.zeros((1, 2, 3), np.float32), np.zeros((1, 2, 3), np.uint8), hdr,
                            T["sensor_msgs/msg/PointCloud2"], T["sensor_msgs/msg/PointField"])
    ts.serialize_cdr(pc, "sensor_msgs/msg/PointCloud2")

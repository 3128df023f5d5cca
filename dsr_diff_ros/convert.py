"""sensor_msgs <-> NumPy without importing rclpy or sensor_msgs.

Decoders take any object with the message's fields (rclpy messages, rosbags-deserialised messages, simple
namespaces). Encoders take the message class(es) as arguments so that both rclpy classes and rosbags
typestore classes work; the caller builds the header (``std_msgs/Header``-like object).

Conventions: depth in float32 metres, 0 or NaN invalid (REP 118: 16UC1 mm with 0 invalid, 32FC1 metres with
NaN invalid); colour as (H, W, 3) uint8 RGB; point clouds in the depth_image_proc XYZRGB layout
(``PointCloud2Modifier.setPointCloud2FieldsByString(2, "xyz", "rgb")``: x@0 y@4 z@8 rgb@16, point_step 32;
xyz only: point_step 16).
"""
from __future__ import annotations

import array

import numpy as np

from .frame import Intrinsics


class ConversionError(ValueError):
    """A message that cannot be converted (bad size/step, unknown encoding, ...), with the reason."""


# encoding -> (numpy dtype, channels)
ENCODINGS = {
    "rgb8": (np.uint8, 3), "bgr8": (np.uint8, 3), "rgba8": (np.uint8, 4), "bgra8": (np.uint8, 4),
    "mono8": (np.uint8, 1), "8UC1": (np.uint8, 1), "8UC3": (np.uint8, 3),
    "mono16": (np.uint16, 1), "16UC1": (np.uint16, 1), "32FC1": (np.float32, 1),
}
RGB_ENCODINGS = ("rgb8", "bgr8", "rgba8", "bgra8", "mono8")
DEPTH_ENCODINGS = ("16UC1", "mono16", "32FC1")

# sensor_msgs/PointField datatypes
FLOAT32 = 7


def _is_rosbags(cls) -> bool:
    return hasattr(cls, "__msgtype__")


def _bytes_field(arr: np.ndarray, cls):
    """The value to put in a uint8[] field: NumPy for rosbags classes, array.array('B') for rclpy."""
    flat = np.ascontiguousarray(arr).reshape(-1).view(np.uint8)
    if _is_rosbags(cls):
        return flat
    out = array.array("B")
    out.frombytes(memoryview(flat))  # one copy, no intermediate bytes object
    return out


def _make(cls, data: np.ndarray, **fields):
    """cls(**fields) with its uint8[] ``data`` set from ``data`` with a single copy (rclpy's generated
    __init__ would copy the sequence once more, so ``data`` is assigned after construction)."""
    value = _bytes_field(data, cls)
    if _is_rosbags(cls):
        return cls(data=value, **fields)
    if "_check_fields" in getattr(cls, "__slots__", ()):
        # with check_fields the generated setter keeps an array.array as is; without it, it copies it again
        msg = cls(check_fields=True, **fields)
    else:
        msg = cls(**fields)
    msg.data = value
    return msg


def _data_buffer(data) -> np.ndarray:
    if isinstance(data, np.ndarray):
        return data.reshape(-1).view(np.uint8)
    try:
        return np.frombuffer(memoryview(data), np.uint8)
    except TypeError:
        return np.asarray(data, np.uint8)


def stamp_to_ns(stamp) -> int:
    """builtin_interfaces/Time-like (sec, nanosec) or rclpy Time (nanoseconds) -> int nanoseconds."""
    if hasattr(stamp, "nanoseconds"):
        return int(stamp.nanoseconds)
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


# ---------------------------------------------------------------------------------------------- images
def image_to_array(msg, copy: bool = True) -> np.ndarray:
    """sensor_msgs/Image -> array (H, W) or (H, W, C) in the encoding's dtype (native byte order).

    Validates encoding, size, step (row padding allowed) and data length. ``copy=False`` may return a
    read-only view on the message buffer (padded rows: a strided view).
    """
    enc = str(msg.encoding)
    if enc not in ENCODINGS:
        raise ConversionError(f"unsupported image encoding '{enc}' (supported: {', '.join(ENCODINGS)})")
    dtype, ch = ENCODINGS[enc]
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    if h <= 0 or w <= 0:
        raise ConversionError(f"empty image ({w}x{h})")
    itemsize = np.dtype(dtype).itemsize
    row = w * ch * itemsize
    if step < row:
        raise ConversionError(f"step {step} smaller than width*channels*bytes = {row} for {enc} {w}x{h}")
    buf = _data_buffer(msg.data)
    if buf.size < step * (h - 1) + row:
        raise ConversionError(f"data has {buf.size} bytes, {enc} {w}x{h} with step {step} needs {step * h}")
    big = bool(msg.is_bigendian)
    dt = np.dtype(dtype).newbyteorder(">" if big else "<") if itemsize > 1 else np.dtype(dtype)
    if step == row:
        out = buf[: h * row].view(dt)
    else:
        rows = np.lib.stride_tricks.as_strided(buf, shape=(h, row), strides=(step, 1))
        out = np.array(rows).view(dt)  # padded rows: drop the padding (a copy)
    out = out.reshape(h, w, ch) if ch > 1 else out.reshape(h, w)
    if out.dtype != np.dtype(dtype):
        return out.astype(dtype)  # byte swap: a new array
    return np.array(out) if copy else out


def rgb_from_image(msg) -> np.ndarray:
    """Colour sensor_msgs/Image (rgb8, bgr8, rgba8, bgra8, mono8) -> (H, W, 3) uint8 RGB."""
    enc = str(msg.encoding)
    if enc not in RGB_ENCODINGS:
        raise ConversionError(f"colour image encoding '{enc}' not supported (use one of {RGB_ENCODINGS})")
    import cv2

    a = image_to_array(msg, copy=False)
    code = {"mono8": cv2.COLOR_GRAY2RGB, "bgr8": cv2.COLOR_BGR2RGB, "bgra8": cv2.COLOR_BGRA2RGB,
            "rgba8": cv2.COLOR_RGBA2RGB}.get(enc)
    if code is None:
        return np.array(a)
    return cv2.cvtColor(np.ascontiguousarray(a), code)


def depth_from_image(msg) -> np.ndarray:
    """Depth sensor_msgs/Image -> (h, w) float32 metres.

    16UC1/mono16: millimetres, 0 stays 0 (invalid). 32FC1: metres as is (REP 117 NaN/+-Inf kept; the
    pipeline treats non-finite and negative values as invalid).
    """
    enc = str(msg.encoding)
    if enc not in DEPTH_ENCODINGS:
        raise ConversionError(f"depth image encoding '{enc}' not supported (use 16UC1 mm or 32FC1 m)")
    a = image_to_array(msg, copy=False)
    if a.dtype == np.uint16:
        return a.astype(np.float32) * np.float32(0.001)
    return np.array(a, np.float32)


def rgb_from_compressed(msg) -> np.ndarray:
    """sensor_msgs/CompressedImage (jpeg/png colour) -> (H, W, 3) uint8 RGB."""
    import cv2

    buf = _data_buffer(msg.data)
    if buf.size == 0:
        raise ConversionError("empty compressed image")
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if img is None:
        raise ConversionError(f"cannot decode compressed image (format '{msg.format}')")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def image_to_msg(arr: np.ndarray, encoding: str, header, msg_cls):
    """(H, W[, C]) array -> ``msg_cls`` (sensor_msgs/Image), little endian, no row padding."""
    if encoding not in ENCODINGS:
        raise ConversionError(f"unsupported image encoding '{encoding}'")
    dtype, ch = ENCODINGS[encoding]
    a = np.asarray(arr)
    if a.ndim == 2 and ch == 1:
        pass
    elif not (a.ndim == 3 and a.shape[2] == ch):
        raise ConversionError(f"array of shape {a.shape} does not fit encoding {encoding} ({ch} channels)")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ConversionError("empty image")
    a = np.ascontiguousarray(a, dtype=np.dtype(dtype).newbyteorder("<"))
    h, w = a.shape[:2]
    return _make(msg_cls, a, header=header, height=h, width=w, encoding=encoding, is_bigendian=0,
                 step=w * ch * a.itemsize)


def depth_to_msg(depth_m: np.ndarray, header, msg_cls, encoding: str = "32FC1"):
    """(H, W) float32 metres (NaN/0 invalid) -> Image. 32FC1: NaN invalid (REP 118); 16UC1: mm, 0 invalid
    (values beyond 65.535 m become 0)."""
    d = np.asarray(depth_m, np.float32)
    if d.ndim != 2:
        raise ConversionError(f"depth must be 2-D, got {d.shape}")
    valid = np.isfinite(d) & (d > 0)
    if encoding == "32FC1":
        return image_to_msg(np.where(valid, d, np.float32(np.nan)).astype(np.float32), "32FC1", header, msg_cls)
    if encoding == "16UC1":
        mm = np.where(valid, np.rint(d * 1000.0), 0)
        mm[mm > 65535] = 0
        return image_to_msg(mm.astype(np.uint16), "16UC1", header, msg_cls)
    raise ConversionError(f"depth output encoding must be 32FC1 or 16UC1, got '{encoding}'")


# ---------------------------------------------------------------------------------------- camera info
def info_to_intrinsics(msg) -> Intrinsics:
    """sensor_msgs/CameraInfo -> Intrinsics. Uses P (rectified images, as depth_image_proc) when set, else K.

    Binning > 1 divides the focal lengths/centre like image_geometry does (ROI is not supported)."""
    w, h = int(msg.width), int(msg.height)
    p = np.asarray(msg.p, np.float64).reshape(-1)
    k = np.asarray(msg.k, np.float64).reshape(-1)
    if p.size == 12 and p[0] > 0 and p[5] > 0:
        fx, fy, cx, cy = p[0], p[5], p[2], p[6]
    elif k.size == 9 and k[0] > 0 and k[4] > 0:
        fx, fy, cx, cy = k[0], k[4], k[2], k[5]
    else:
        raise ConversionError("camera info has neither a valid P nor K (fx, fy must be > 0)")
    bx, by = max(1, int(getattr(msg, "binning_x", 0) or 1)), max(1, int(getattr(msg, "binning_y", 0) or 1))
    if w <= 0 or h <= 0:
        raise ConversionError(f"camera info has an empty size ({w}x{h})")
    if not np.all(np.isfinite([fx, fy, cx, cy])):
        raise ConversionError("camera info has non-finite intrinsics")
    fx, fy, cx, cy, w, h = fx / bx, fy / by, cx / bx, cy / by, w // bx, h // by
    if not (fx > 0 and fy > 0) or w <= 0 or h <= 0:   # binning can underflow a tiny focal or empty a tiny image
        raise ConversionError(f"camera info binned by {bx}x{by} leaves fx={fx}, fy={fy}, size {w}x{h}")
    return Intrinsics(fx, fy, cx, cy, w, h)


def intrinsics_to_info(intr: Intrinsics, header, info_cls, roi_cls=None):
    """Intrinsics -> ``info_cls`` (sensor_msgs/CameraInfo) of a rectified (distortion-free) image."""
    k = np.array([intr.fx, 0, intr.cx, 0, intr.fy, intr.cy, 0, 0, 1], np.float64)
    p = np.array([intr.fx, 0, intr.cx, 0, 0, intr.fy, intr.cy, 0, 0, 0, 1, 0], np.float64)
    r = np.eye(3).reshape(-1)
    d = np.zeros(5, np.float64)
    kw = dict(header=header, height=int(intr.height), width=int(intr.width), distortion_model="plumb_bob",
              k=k, r=r, p=p, binning_x=0, binning_y=0)
    if _is_rosbags(info_cls):
        kw["d"] = d
        kw["roi"] = roi_cls(x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
    else:
        kw["d"] = d.tolist()
    return info_cls(**kw)


# ---------------------------------------------------------------------------------------- point cloud
def cloud_dtype(with_rgb: bool) -> np.dtype:
    """Structured dtype of one point: x,y,z float32 (+ rgb float32 at 16, point_step 32)."""
    if with_rgb:
        return np.dtype({"names": ["x", "y", "z", "rgb"], "formats": ["<f4"] * 4,
                         "offsets": [0, 4, 8, 16], "itemsize": 32})
    return np.dtype({"names": ["x", "y", "z"], "formats": ["<f4"] * 3, "offsets": [0, 4, 8], "itemsize": 16})


def pack_rgb(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W) float32 whose bits are uint32 0x00RRGGBB (PCL/depth_image_proc)."""
    import cv2

    bgra = cv2.cvtColor(np.ascontiguousarray(rgb, np.uint8), cv2.COLOR_RGB2BGRA)  # little endian B,G,R,A
    bgra[..., 3] = 0
    out = bgra.view("<u4")[..., 0]
    return out.astype("<u4", copy=False).view(np.float32)


def unpack_rgb(packed: np.ndarray) -> np.ndarray:
    """Inverse of pack_rgb: (...) float32 -> (..., 3) uint8."""
    u = np.ascontiguousarray(packed, np.float32).view(np.uint32)
    return np.stack([(u >> 16) & 255, (u >> 8) & 255, u & 255], axis=-1).astype(np.uint8)


def points_to_cloud(points: np.ndarray, rgb, header, cloud_cls, field_cls):
    """Organized cloud: points (H, W, 3) float32 metres (NaN invalid), rgb (H, W, 3) uint8 or None.

    Built as one (H, W, 8) float32 buffer (x, y, z, pad, rgb, pad x3: the depth_image_proc layout), so the
    only other copy is the hand-over to the message."""
    p = np.asarray(points, np.float32)
    if p.ndim != 3 or p.shape[2] != 3:
        raise ConversionError(f"points must be (H, W, 3), got {p.shape}")
    h, w = p.shape[:2]
    dt = cloud_dtype(rgb is not None)
    buf = np.zeros((h, w, dt.itemsize // 4), np.float32)
    buf[..., 0], buf[..., 1], buf[..., 2] = p[..., 0], p[..., 1], p[..., 2]
    if rgb is not None:
        if rgb.shape[:2] != (h, w) or rgb.dtype != np.uint8:
            raise ConversionError(f"rgb {rgb.shape} {rgb.dtype} does not match points {p.shape}")
        buf[..., 4] = pack_rgb(rgb)
    names = dt.names
    fields = [field_cls(name=n, offset=int(dt.fields[n][1]), datatype=FLOAT32, count=1) for n in names]
    return _make(cloud_cls, buf, header=header, height=h, width=w, fields=fields, is_bigendian=False,
                 point_step=dt.itemsize, row_step=dt.itemsize * w, is_dense=False)


def cloud_to_array(msg) -> np.ndarray:
    """PointCloud2 -> structured array (height, width) with its FLOAT32 fields (for tests and tools)."""
    names, offsets = [], []
    for f in msg.fields:
        if int(f.datatype) != FLOAT32 or int(f.count) != 1:
            raise ConversionError(f"field '{f.name}' is not a single FLOAT32")
        names.append(str(f.name))
        offsets.append(int(f.offset))
    end = "<" if not msg.is_bigendian else ">"
    dt = np.dtype({"names": names, "formats": [end + "f4"] * len(names), "offsets": offsets,
                   "itemsize": int(msg.point_step)})
    h, w = int(msg.height), int(msg.width)
    buf = _data_buffer(msg.data)
    if int(msg.row_step) < w * dt.itemsize or buf.size < int(msg.row_step) * h:
        raise ConversionError("point cloud data shorter than height * row_step")
    rows = buf[: int(msg.row_step) * h].reshape(h, int(msg.row_step))[:, : w * dt.itemsize]
    return np.ascontiguousarray(rows).view(dt).reshape(h, w)


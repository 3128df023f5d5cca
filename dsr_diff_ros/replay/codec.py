"""Message <-> array helpers of the replay, on top of the node's ``dsr_diff_ros.convert`` (the same conversion code).

Adds what ``dsr_diff_ros.convert`` does not cover: compressed *depth* (``image_transport`` ``compressedDepth`` and
plain 16-bit PNG ``compressed``), dispatch on the message type, header construction with rosbags classes.
"""
from __future__ import annotations

import struct

import cv2
import numpy as np

from ..frame import Intrinsics
from .. import convert
from ..convert import ConversionError
from .topics import COMPRESSED


def _raw(data) -> np.ndarray:
    if isinstance(data, np.ndarray):
        return data.reshape(-1).view(np.uint8)
    return np.frombuffer(memoryview(data), np.uint8)


def decode_rgb(msg, msgtype: str) -> np.ndarray:
    """Image / CompressedImage -> (H, W, 3) uint8 RGB."""
    if msgtype == COMPRESSED:
        return convert.rgb_from_compressed(msg)
    return convert.rgb_from_image(msg)


def depth_from_compressed(msg) -> np.ndarray:
    """CompressedImage depth -> float32 metres (0 invalid).

    ``compressedDepth`` (image_transport): 12-byte ConfigHeader (int32 format, float32 depthQuantA/B) then a
    PNG; 16UC1 PNG holds millimetres, 32FC1 PNG holds quantised inverse depth (depth = A / (v - B)).
    Plain ``compressed``: a 16-bit PNG/TIFF in millimetres.
    """
    buf = _raw(msg.data)
    fmt = str(getattr(msg, "format", "")).lower()
    if buf.size == 0:
        raise ConversionError("empty compressed depth image")
    qa = qb = None
    if "compresseddepth" in fmt and buf.size > 12 and buf[:8].tobytes() != b"\x89PNG\r\n\x1a\n":
        _, qa, qb = struct.unpack("<iff", buf[:12].tobytes())
        buf = buf[12:]
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if img is None or img.ndim != 2:
        raise ConversionError(f"cannot decode compressed depth image (format '{msg.format}')")
    if img.dtype == np.uint16 and "32fc1" in fmt and qa is not None:
        v = img.astype(np.float32)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # garbage quantisation: dropped below
            d = np.where(v > 0, qa / (v - qb), 0).astype(np.float32)
        d[~np.isfinite(d) | (d < 0)] = 0
        return d
    if img.dtype == np.uint16:
        return img.astype(np.float32) * np.float32(0.001)
    if img.dtype == np.float32:
        return img
    raise ConversionError(f"compressed depth has dtype {img.dtype}; expected a 16-bit image in millimetres")


def decode_depth(msg, msgtype: str) -> np.ndarray:
    """Image / CompressedImage depth -> (h, w) float32 metres (0 or NaN invalid)."""
    if msgtype == COMPRESSED:
        return depth_from_compressed(msg)
    return convert.depth_from_image(msg)


def header_ns(msg) -> int:
    """Header stamp of a message in ns."""
    return convert.stamp_to_ns(msg.header.stamp)


class Encoder:
    """Build output messages with the classes of a rosbags typestore (``BagWriter.typestore``)."""

    def __init__(self, typestore):
        t = typestore.types
        self.Header = t["std_msgs/msg/Header"]
        self.Time = t["builtin_interfaces/msg/Time"]
        self.Image = t["sensor_msgs/msg/Image"]
        self.CompressedImage = t["sensor_msgs/msg/CompressedImage"]
        self.CameraInfo = t["sensor_msgs/msg/CameraInfo"]
        self.RegionOfInterest = t["sensor_msgs/msg/RegionOfInterest"]
        self.PointCloud2 = t["sensor_msgs/msg/PointCloud2"]
        self.PointField = t["sensor_msgs/msg/PointField"]

    def header(self, stamp_ns: int, frame_id: str):
        s = int(stamp_ns)
        return self.Header(stamp=self.Time(sec=s // 1_000_000_000, nanosec=s % 1_000_000_000), frame_id=frame_id)

    def rgb(self, rgb: np.ndarray, header, compressed: bool = False):
        if compressed:
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
            return self.CompressedImage(header=header, format="rgb8; jpeg compressed bgr8",
                                        data=np.frombuffer(buf.tobytes(), np.uint8))
        return convert.image_to_msg(rgb, "rgb8", header, self.Image)

    def depth(self, depth_m: np.ndarray, header, encoding: str = "32FC1"):
        return convert.depth_to_msg(depth_m, header, self.Image, encoding)

    def info(self, intr: Intrinsics, header):
        return convert.intrinsics_to_info(intr, header, self.CameraInfo, self.RegionOfInterest)

    def cloud(self, points: np.ndarray, rgb, header):
        return convert.points_to_cloud(points, rgb, header, self.PointCloud2, self.PointField)

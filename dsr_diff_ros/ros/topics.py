"""The node's topics in one table (names relative to the node's namespace, remappable with ``-r name:=...``).

Plain strings only: ``--help`` and the docs read it without starting ROS.
"""
from __future__ import annotations

# key: (topic, message type, direction, description)
TOPICS = {
    "rgb": ("rgb/image", "sensor_msgs/Image", "in",
            "colour image (rgb8, bgr8, rgba8, bgra8, mono8)"),
    "rgb_compressed": ("rgb/image/compressed", "sensor_msgs/CompressedImage", "in",
                       "colour image instead of rgb/image when rgb_compressed is true (jpeg/png)"),
    "rgb_info": ("rgb/camera_info", "sensor_msgs/CameraInfo", "in",
                 "colour camera info, synchronised with the images: the output grid and the cloud intrinsics"),
    "depth": ("depth/image", "sensor_msgs/Image", "in",
              "low-resolution depth: 16UC1 (mm, 0 invalid) or 32FC1 (m, NaN/Inf invalid)"),
    "depth_info": ("depth/camera_info", "sensor_msgs/CameraInfo", "in",
                   "depth camera info, synchronised too; subscribed only with register_depth"),
    "depth_out": ("depth_upscaled/image", "sensor_msgs/Image", "out",
                  "upscaled depth on the colour grid, colour stamp and frame (REP 118)"),
    "info_out": ("depth_upscaled/camera_info", "sensor_msgs/CameraInfo", "out",
                 "intrinsics of depth_upscaled/image"),
    "points_out": ("depth_upscaled/points", "sensor_msgs/PointCloud2", "out",
                   "organized XYZRGB cloud (publish_points)"),
    "stats": ("~/stats", "dsr_diff_ros/UpscaleStats", "out", "per-frame sizes, latencies and counters"),
    "diagnostics": ("/diagnostics", "diagnostic_msgs/DiagnosticArray", "out",
                    "rates, latency percentiles, counters, lazy/subscribed state"),
}

# Outputs whose subscribers make a lazy node subscribe to its inputs (points only while publish_points).
LAZY_OUTPUTS = ("depth_out", "info_out", "points_out")


def name(key: str) -> str:
    return TOPICS[key][0]

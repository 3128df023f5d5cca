"""Smoke tests of the packaging: package.xml, the ROS prefix in the venv, and the custom
UpscaleStats message travelling between two processes through rclpy."""
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PKG = "dsr_diff_ros"


def test_package_xml_declares_dependencies():
    catkin_pkg = pytest.importorskip("catkin_pkg.package")
    pkg = catkin_pkg.parse_package(str(REPO / "package.xml"))
    pkg.validate()
    assert pkg.name == PKG
    assert pkg.package_format == 3
    assert pkg.get_build_type() == "ament_cmake"
    run = {d.name for d in pkg.exec_depends + pkg.build_export_depends}
    for dep in ["rclpy", "sensor_msgs", "std_msgs", "builtin_interfaces", "diagnostic_msgs",
                "geometry_msgs", "message_filters", "cv_bridge", "launch", "launch_ros", "tf2_ros",
                "python3-numpy", "python3-opencv", "python3-torch", "python3-yaml",
                "rosidl_default_runtime"]:
        assert dep in run, dep
    buildtool = {d.name for d in pkg.buildtool_depends}
    assert {"ament_cmake", "ament_cmake_python", "rosidl_default_generators"} <= buildtool
    assert "rosidl_interface_packages" in {g.name for g in pkg.member_of_groups}
    assert {"ament_cmake_pytest", "python3-pytest"} <= {d.name for d in pkg.test_depends}


def test_message_definition_fields():
    from dsr_diff_ros.msg import UpscaleStats

    fields = UpscaleStats.get_fields_and_field_types()
    expected = {
        "header": "std_msgs/Header",
        "input_width": "uint32", "input_height": "uint32",
        "output_width": "uint32", "output_height": "uint32",
        "scale": "float", "diffusion_steps": "uint8",
        "latency_convert_ms": "float", "latency_register_ms": "float",
        "latency_inference_ms": "float", "latency_points_ms": "float",
        "latency_publish_ms": "float", "latency_total_ms": "float",
        "valid_ratio_in": "float", "valid_ratio_out": "float",
        "pairs_received": "uint64", "pairs_processed": "uint64",
        "pairs_replaced": "uint64", "pairs_dropped_bad_input": "uint64",
        "device": "string", "model_id": "string",
    }
    assert fields == expected


def test_ros_prefix_installed_in_venv(monkeypatch):
    prefix = Path(sys.prefix)
    assert (prefix / "share/ament_index/resource_index/packages" / PKG).is_file()
    assert (prefix / "share" / PKG / "package.xml").is_file()
    assert (prefix / "share" / PKG / "msg/UpscaleStats.msg").is_file()
    assert (prefix / "share" / PKG / "config/fastdds_shm.xml").is_file()
    assert (prefix / "lib" / f"lib{PKG}__rosidl_typesupport_c.so").is_file()
    for exe in ["upscale_node", "dsr-diff-replay", "dsr-diff-demo", "dsr-diff-adapt"]:
        assert os.access(prefix / "lib" / PKG / exe, os.X_OK), exe
    ament_index = pytest.importorskip("ament_index_python.packages")
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(prefix))
    assert Path(ament_index.get_package_share_directory(PKG)) == prefix / "share" / PKG
    assert ament_index.get_package_prefix(PKG) == str(prefix)


PUBLISHER = textwrap.dedent("""
    import sys, time
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from dsr_diff_ros.msg import UpscaleStats

    rclpy.init()
    node = rclpy.create_node("smoke_stats_publisher")
    pub = node.create_publisher(UpscaleStats, "smoke/stats",
                                QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
    deadline = time.monotonic() + float(sys.argv[1])
    n = 0
    while time.monotonic() < deadline:
        m = UpscaleStats()
        m.header.frame_id = "camera_color_optical_frame"
        m.header.stamp.sec, m.header.stamp.nanosec = 1700000000, 123456789
        m.input_width, m.input_height, m.output_width, m.output_height = 160, 120, 640, 480
        m.scale = 4.0
        m.diffusion_steps = 7
        m.latency_inference_ms = 123.5
        m.latency_total_ms = 150.25
        m.valid_ratio_in, m.valid_ratio_out = 0.75, 1.0
        m.pairs_received, m.pairs_processed = 2**40 + n, n
        m.pairs_replaced, m.pairs_dropped_bad_input = 3, 1
        m.device, m.model_id = "cpu", "dsr-diff-smoke"
        pub.publish(m)
        n += 1
        rclpy.spin_once(node, timeout_sec=0.05)
    node.destroy_node()
    rclpy.shutdown()
""")


def test_upscale_stats_between_processes():
    rclpy = pytest.importorskip("rclpy")
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    from dsr_diff_ros.msg import UpscaleStats

    proc = subprocess.Popen([sys.executable, "-c", PUBLISHER, "60"], cwd=str(REPO),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    received = []
    try:
        node = rclpy.create_node("smoke_stats_subscriber", context=ctx)
        node.create_subscription(UpscaleStats, "smoke/stats", received.append,
                                 QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
        executor = SingleThreadedExecutor(context=ctx)
        executor.add_node(node)
        deadline = time.monotonic() + 45
        while not received and time.monotonic() < deadline and proc.poll() is None:
            executor.spin_once(timeout_sec=0.1)
        executor.shutdown()
        node.destroy_node()
    finally:
        rclpy.shutdown(context=ctx)
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert received, "no UpscaleStats received; publisher output:\n" + out.decode(errors="replace")
    m = received[0]
    assert m.header.frame_id == "camera_color_optical_frame"
    assert (m.header.stamp.sec, m.header.stamp.nanosec) == (1700000000, 123456789)
    assert (m.input_width, m.input_height, m.output_width, m.output_height) == (160, 120, 640, 480)
    assert m.scale == 4.0 and m.diffusion_steps == 7
    assert m.latency_inference_ms == pytest.approx(123.5)
    assert m.latency_total_ms == pytest.approx(150.25)
    assert (m.valid_ratio_in, m.valid_ratio_out) == (0.75, 1.0)
    assert m.pairs_received >= 2**40
    assert (m.pairs_replaced, m.pairs_dropped_bad_input) == (3, 1)
    assert (m.device, m.model_id) == ("cpu", "dsr-diff-smoke")


IMAGE_PUBLISHER = textwrap.dedent("""
    import sys, time
    import numpy as np
    import rclpy
    from rclpy.duration import Duration
    from rclpy.qos import QoSProfile, ReliabilityPolicy, HistoryPolicy
    from sensor_msgs.msg import Image

    rclpy.init()
    node = rclpy.create_node("smoke_image_publisher")
    qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST)
    pub = node.create_publisher(Image, "smoke/depth", qos)
    deadline = time.monotonic() + 30
    while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
    time.sleep(0.5)
    n = int(sys.argv[1])
    for i in range(n):
        depth = np.full((480, 640), 1.0 + i, np.float32)
        depth[0, 0] = np.nan
        m = Image(height=480, width=640, encoding="32FC1", is_bigendian=0, step=640 * 4)
        m.header.frame_id = str(i)
        m.data = depth.tobytes()
        pub.publish(m)
        time.sleep(1 / 30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not pub.wait_for_all_acked(Duration(seconds=0.1)):
        pass
    time.sleep(1.0)
    node.destroy_node()
    rclpy.shutdown()
""")


def test_large_images_lossless_between_processes():
    """640x480 32FC1 depth images at 30 Hz arrive complete and in order (Fast DDS profile of make test)."""
    rclpy = pytest.importorskip("rclpy")
    import numpy as np
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    n = 20
    proc = subprocess.Popen([sys.executable, "-c", IMAGE_PUBLISHER, str(n)], cwd=str(REPO),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    received = []
    try:
        node = rclpy.create_node("smoke_image_subscriber", context=ctx)
        qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST)
        node.create_subscription(Image, "smoke/depth", lambda m: received.append((time.monotonic(), m)), qos)
        executor = SingleThreadedExecutor(context=ctx)
        executor.add_node(node)
        deadline = time.monotonic() + 60
        while len(received) < n and time.monotonic() < deadline and proc.poll() is None:
            executor.spin_once(timeout_sec=0.1)
        executor.shutdown()
        node.destroy_node()
    finally:
        rclpy.shutdown(context=ctx)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    log = out.decode(errors="replace")
    assert proc.returncode == 0, log
    assert [m.header.frame_id for _, m in received] == [str(i) for i in range(n)], log
    for i, (_, m) in enumerate(received):
        d = np.frombuffer(bytes(m.data), np.float32).reshape(480, 640)
        assert np.isnan(d[0, 0]) and np.all(d.ravel()[1:] == 1.0 + i)
    span = received[-1][0] - received[0][0]
    assert span < 5.0, f"{n} images took {span:.1f}s"

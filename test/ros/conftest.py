"""Fixtures for the node tests: rclpy context, the real Upscaler (tests skip with the reason when the trained
weights are not there), the node under test + a fake sensor node spinning in a thread."""
import importlib
import os

import pytest


@pytest.fixture(scope="session")
def upscaler():
    hook = os.environ.get("DSR_DIFF_TEST_UPSCALER")  # "module:factory", development only
    if hook:
        mod, fn = hook.split(":")
        return getattr(importlib.import_module(mod), fn)()
    try:
        from dsr_diff_ros import Upscaler
    except ImportError as e:
        pytest.skip(f"dsr_diff_ros.inference.Upscaler not importable ({e})")
    try:
        return Upscaler.from_pretrained(None, device="cpu")
    except FileNotFoundError as e:
        pytest.skip(f"no trained weights in dsr_diff_ros/weights/ ({e})")


@pytest.fixture(scope="module")
def ros_graph(upscaler):
    """(node, sensor, spinner) with a fresh rclpy context per test module."""
    rclpy = pytest.importorskip("rclpy")
    from rclpy.parameter import Parameter

    from dsr_diff_ros.ros.node import UpscaleNode

    from .harness import Sensor, Spinner, wait_for_matched

    rclpy.init()
    node = UpscaleNode(upscaler=upscaler, parameter_overrides=[
        Parameter("warmup", value=False), Parameter("slop", value=0.02), Parameter("queue_size", value=5),
        Parameter("input_check_delay", value=1.0), Parameter("diagnostics_period", value=0.5)])
    sensor = Sensor()
    spin = Spinner(node, sensor.node)
    assert wait_for_matched(sensor), "fake sensor and node did not discover each other"
    yield node, sensor, spin
    spin.stop()
    node.destroy_node()
    sensor.node.destroy_node()
    rclpy.shutdown()

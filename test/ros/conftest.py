"""Fixtures for the node tests: rclpy context, the real Upscaler (tests skip with the reason when the trained
weights are not there), the node under test + a fake sensor node spinning in a thread."""
import warnings

import pytest


@pytest.fixture(scope="session")
def upscaler():
    """The shipped Upscaler on CPU; without trained weights, the real Upscaler around an untrained DSRDiff
    of the default architecture (same code path and cost, meaningless depth values)."""
    try:
        from dsr_diff_ros import Upscaler
    except ImportError as e:
        pytest.skip(f"dsr_diff_ros.inference.Upscaler not importable ({e})")
    try:
        return Upscaler.from_pretrained(None, device="cpu")
    except FileNotFoundError as e:
        try:
            import torch
            from dsr_diff_ros.model.config import ModelConfig
            from dsr_diff_ros.model.dsr_diff import DSRDiff
        except ImportError:
            pytest.skip(f"no trained weights ({e}) and no model package to build an untrained one")
        warnings.warn(f"no trained weights ({e}): node tests use an untrained DSRDiff")
        torch.manual_seed(0)
        return Upscaler(DSRDiff(ModelConfig()), {"default_steps": 2}, torch.device("cpu"), model_id="untrained")


@pytest.fixture(scope="module")
def ros_graph(upscaler, request):
    """(node, sensor, spinner) with a fresh rclpy context per test module."""
    rclpy = pytest.importorskip("rclpy")
    from rclpy.parameter import Parameter

    from dsr_diff_ros.ros.node import UpscaleNode

    from .harness import Sensor, Spinner, wait_for_matched

    params = {"warmup": False, "slop": 0.02, "queue_size": 5, "input_check_delay": 1.0, "diagnostics_period": 0.5}
    params.update(getattr(request.module, "NODE_PARAMS", {}))   # a test module may override parameters
    rclpy.init()
    node = UpscaleNode(upscaler=upscaler, parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
    sensor = Sensor(compressed=params.get("rgb_compressed", False))
    spin = Spinner(node, sensor.node)
    assert wait_for_matched(sensor, depth_info=params.get("register_depth", False)), "fake sensor and node did not discover each other"
    yield node, sensor, spin
    spin.stop()
    node.destroy_node()
    sensor.node.destroy_node()
    rclpy.shutdown()

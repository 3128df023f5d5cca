"""QoS helpers: compatibility rule and the silent-input check against real endpoints."""
import time

import pytest

rclpy = pytest.importorskip("rclpy")
from rclpy.qos import ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

from dsr_diff_ros.ros import qos  # noqa: E402


def test_incompatibility_rule():
    reliable, best = qos.profile("reliable", 5), qos.profile("best_effort", 5)
    assert qos.incompatibility(reliable, best) and not qos.incompatibility(best, reliable)
    assert not qos.incompatibility(best, best) and not qos.incompatibility(reliable, reliable)
    assert best.reliability == ReliabilityPolicy.BEST_EFFORT
    with pytest.raises(ValueError):
        qos.profile("sometimes", 1)


def test_check_inputs_reports_missing_and_mismatched_publishers():
    rclpy.init()
    try:
        n = rclpy.create_node("qos_check")
        n.create_subscription(Image, "a", lambda m: None, qos.profile("reliable", 5))
        n.create_subscription(Image, "b", lambda m: None, qos.profile("best_effort", 5))
        p = rclpy.create_node("qos_pub")
        p.create_publisher(Image, "a", qos.profile("best_effort", 5))
        p.create_publisher(Image, "b", qos.profile("reliable", 5))
        topics = {"a": qos.profile("reliable", 5), "b": qos.profile("best_effort", 5),
                  "c": qos.profile("best_effort", 5)}
        end, w = time.monotonic() + 10, []
        while time.monotonic() < end:
            w = qos.check_inputs(n, topics, {"b": 3})
            if any("QoS mismatch" in x for x in w):
                break
            time.sleep(0.1)
        assert any("/a" in x and "QoS mismatch" in x for x in w), w
        assert any("no publisher on /c" in x for x in w), w
        assert not any("/b" in x for x in w), w
    finally:
        rclpy.shutdown()

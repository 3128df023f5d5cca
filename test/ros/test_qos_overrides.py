"""QoS through the standard qos_overrides parameters (rclpy QoSOverridingOptions), from a YAML parameter file
as users set them: SensorData defaults take best-effort and reliable publishers; an input overridden to
reliable takes a reliable publisher and reports a best-effort one as a QoS mismatch; output overrides."""
import time

import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from dsr_diff_ros.ros import qos

from .harness import wait_until

YAML = """/**:
  ros__parameters:
    lazy: false
    warmup: false
    qos_overrides:
      /rgb/image:
        subscription: {reliability: reliable, depth: 3}
      /depth_upscaled/points:
        publisher: {reliability: best_effort, depth: 1}
"""


@pytest.fixture(scope="module")
def graph(upscaler, tmp_path_factory):
    import rclpy

    from dsr_diff_ros.ros.node import UpscaleNode

    from .harness import Spinner

    f = tmp_path_factory.mktemp("qos") / "params.yaml"
    f.write_text(YAML)
    rclpy.init(args=["--ros-args", "--params-file", str(f)])
    node = UpscaleNode(upscaler=upscaler, node_name="qos_upscaler")
    peer = rclpy.create_node("qos_peer")
    spin = Spinner(node, peer)
    yield node, peer
    spin.stop()
    node.destroy_node()
    peer.destroy_node()
    rclpy.shutdown()


def rel(name):
    return ReliabilityPolicy.RELIABLE if name == "reliable" else ReliabilityPolicy.BEST_EFFORT


def test_parameters_are_declared_read_only_with_the_overridden_values(graph):
    node, _ = graph
    assert node.get_parameter("qos_overrides./rgb/image.subscription.reliability").value == "reliable"
    assert node.get_parameter("qos_overrides./rgb/image.subscription.depth").value == 3
    assert node.get_parameter("qos_overrides./depth/image.subscription.reliability").value == "best_effort"
    assert node.get_parameter("qos_overrides./depth_upscaled/image.publisher.reliability").value == "reliable"
    for n in qos.override_names("/depth/image", "subscription"):
        assert node.describe_parameter(n).read_only, n
    prof = node.inputs.profiles()
    assert prof["rgb/image"].reliability == ReliabilityPolicy.RELIABLE and prof["rgb/image"].depth == 3
    assert prof["depth/image"].reliability == ReliabilityPolicy.BEST_EFFORT and prof["depth/image"].depth == 5
    assert node.pub_points.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT
    assert node.pub_depth.qos_profile.reliability == ReliabilityPolicy.RELIABLE


@pytest.mark.parametrize("topic,pub_rel,delivered", [
    ("depth/image", "best_effort", True), ("depth/image", "reliable", True),     # default: SensorData
    ("rgb/image", "reliable", True), ("rgb/image", "best_effort", False),        # overridden to reliable
])
def test_publishers_through_the_overrides(graph, topic, pub_rel, delivered):
    node, peer = graph
    pub = peer.create_publisher(Image, topic, QoSProfile(depth=5, reliability=rel(pub_rel)))
    try:
        before = node.received[topic]
        end = time.monotonic() + 5
        while time.monotonic() < end and node.received[topic] == before:
            pub.publish(Image(encoding="rgb8"))
            time.sleep(0.05)
        assert (node.received[topic] > before) == delivered, (topic, pub_rel)
        warnings = qos.check_inputs(node, node.inputs.profiles(), node.received)
        mismatch = any(node.resolve_topic_name(topic) in w and "QoS mismatch" in w for w in warnings)
        assert mismatch == (not delivered), warnings
    finally:
        peer.destroy_publisher(pub)
        wait_until(lambda: node.count_publishers(topic) == 0)


def test_output_override_decides_who_can_listen(graph):
    node, peer = graph
    got = []
    from sensor_msgs.msg import PointCloud2

    reliable = peer.create_subscription(PointCloud2, "depth_upscaled/points", got.append,
                                        QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
    best = peer.create_subscription(Image, "depth_upscaled/image", got.append,
                                    QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
    try:
        assert wait_until(lambda: node.pub_depth.get_subscription_count() == 1)  # reliable pub, best-effort sub
        time.sleep(0.5)
        assert node.pub_points.get_subscription_count() == 0                    # best-effort pub, reliable sub
    finally:
        peer.destroy_subscription(reliable)
        peer.destroy_subscription(best)

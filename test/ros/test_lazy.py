"""Lazy subscription with real rclpy: no output subscriber -> inputs unsubscribed and no model call; a
subscriber appears -> outputs flow; it leaves -> the model stops. ``lazy: false`` keeps the inputs on."""
import threading
import time

import pytest
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image

from .harness import Sensor, Spinner, load_frames, wait_until

FRAMES = load_frames(1)


class CountingUpscaler:
    """The real Upscaler, counting its calls."""

    def __init__(self, up):
        self._up, self.calls = up, 0

    def __getattr__(self, name):
        return getattr(self._up, name)

    def upscale(self, *a, **kw):
        self.calls += 1
        return self._up.upscale(*a, **kw)


@pytest.fixture(scope="module")
def lazy_graph(upscaler):
    import rclpy

    from dsr_diff_ros.ros.node import UpscaleNode

    rclpy.init()
    up = CountingUpscaler(upscaler)
    node = UpscaleNode(upscaler=up, node_name="lazy_upscaler", parameter_overrides=[
        Parameter("warmup", value=False), Parameter("diagnostics_period", value=0.2),
        Parameter("input_check_delay", value=600.0)])  # no polling backstop: matched events only
    sensor = Sensor(listen=False)                    # publishes inputs only
    listener = rclpy.create_node("listener")
    spin = Spinner(node, sensor.node, listener)
    stop = threading.Event()

    def stream():                                   # ~10 Hz camera
        rgb, d, K = FRAMES[0]
        t = 100.0
        while not stop.is_set():
            sensor.publish_pair(rgb, d, K, t)
            t += 0.1
            time.sleep(0.08)
    th = threading.Thread(target=stream, daemon=True)
    th.start()
    yield node, up, sensor, listener
    stop.set()
    th.join(5)
    spin.stop()
    node.destroy_node()
    sensor.node.destroy_node()
    listener.destroy_node()
    rclpy.shutdown()


def test_subscribes_only_while_an_output_has_a_subscriber(lazy_graph):
    from diagnostic_msgs.msg import DiagnosticArray

    node, up, sensor, listener = lazy_graph
    diag = []
    listener.create_subscription(DiagnosticArray, "/diagnostics", diag.append, 10)
    time.sleep(2.0)                                   # camera streaming, nobody listening to the node
    assert up.calls == 0 and not node.inputs.active
    assert sensor.pub["rgb/image"].get_subscription_count() == 0
    assert wait_until(lambda: any(s.name.startswith("lazy_upscaler") for a in diag for s in a.status), 20)
    st = [s for a in diag for s in a.status if s.name.startswith("lazy_upscaler")][-1]
    kv = {v.key: v.value for v in st.values}
    assert st.level == b"\x00" and "idle" in st.message and kv["inputs"].startswith("unsubscribed"), kv
    assert kv["lazy"] == "True" and kv["output_subscribers"] == "0"

    got = []
    sub = listener.create_subscription(Image, "depth_upscaled/image", got.append, 10)
    assert wait_until(lambda: len(got) >= 2, 60), (node.stats.snapshot(), up.calls)
    assert node.inputs.active and up.calls >= 2

    listener.destroy_subscription(sub)
    assert wait_until(lambda: not node.inputs.active, 10)
    assert wait_until(lambda: node._pending is None, 10)
    time.sleep(1.0)                                   # the frame in flight, if any, finishes
    calls = up.calls
    time.sleep(2.0)
    assert up.calls == calls, "model still called with no subscriber"
    assert sensor.pub["rgb/image"].get_subscription_count() == 0


def test_lazy_false_keeps_inputs_subscribed(lazy_graph):
    node, up, sensor, _ = lazy_graph
    assert wait_until(lambda: not node.inputs.active, 10)
    calls = up.calls
    assert node.set_parameters([Parameter("lazy", value=False)])[0].successful
    assert wait_until(lambda: up.calls >= calls + 2, 60), node.stats.snapshot()
    assert node.inputs.active and node.output_subscribers() == 0
    assert node.set_parameters([Parameter("lazy", value=True)])[0].successful
    assert wait_until(lambda: not node.inputs.active, 10)


def test_cloud_subscriber_counts_only_while_publishing_points(lazy_graph):
    from sensor_msgs.msg import PointCloud2

    node, up, _, listener = lazy_graph
    sub = listener.create_subscription(PointCloud2, "depth_upscaled/points", lambda m: None, 2)
    try:
        assert wait_until(lambda: node.inputs.active, 10)
        assert node.set_parameters([Parameter("publish_points", value=False)])[0].successful
        assert wait_until(lambda: not node.inputs.active, 10)   # nobody wants what is still published
    finally:
        listener.destroy_subscription(sub)
        node.set_parameters([Parameter("publish_points", value=True)])

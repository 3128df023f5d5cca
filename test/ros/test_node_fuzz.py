"""The node under hypothesis-generated hostile input over real rclpy pub/sub: any encoding, step, data length,
size and endianness on either image, stamps equal or out of order. It never crashes, every pair is accounted for
(processed, dropped as bad input and counted, or replaced), every output is on the 320x240 RGB grid with the
stamp of a pair that was sent, and a good pair afterwards is processed."""
import time

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from fuzz.strategies import image_fields

from .harness import FRAME_ID, load_frames, stamp
from .test_node import settle

FRAMES = load_frames(1)
NODE_FUZZ = settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
T0 = 5000.0
sent: list = []


def _msg(f, t):
    return Image(header=Header(stamp=stamp(t), frame_id=FRAME_ID), height=f["height"], width=f["width"],
                 encoding=f["encoding"], is_bigendian=f["is_bigendian"], step=f["step"], data=f["data"])


@NODE_FUZZ
@given(f=image_fields(), which=st.sampled_from(["rgb", "depth"]), dt=st.sampled_from([0.0, -0.2, 0.5]))
def test_hostile_images_never_crash_or_mislabel(ros_graph, f, which, dt):
    node, s, _ = ros_graph
    rgb, d, K = FRAMES[0]
    t = T0 + len(sent) + dt                      # dt: equal to / behind / ahead of the previous pair
    sent.append(t)
    s.publish_pair(rgb, d, K, t, **{f"{which}_msg": _msg(f, t)})
    c = settle(node)
    assert c["pairs_received"] == c["pairs_processed"] + c["pairs_dropped_bad_input"] + c["pairs_replaced"], c
    with s.lock:
        outs = list(s.got["depth"])
    want = {int(round(x * 1e9)) for x in sent}
    for m in outs:
        assert (m.width, m.height) == (320, 240)
        assert m.header.stamp.sec * 10**9 + m.header.stamp.nanosec in want
    assert node._worker.is_alive()


def test_good_pair_after_fuzzing_is_processed(ros_graph):
    node, s, _ = ros_graph
    rgb, d, K = FRAMES[0]
    before = settle(node)
    s.clear()
    s.publish_pair(rgb, d, K, T0 + 1000.0)
    assert s.wait("depth", 1), node.stats.snapshot()
    assert s.got["depth"][-1].header.stamp.sec == int(T0 + 1000)
    c = settle(node)
    assert c["pairs_processed"] == before["pairs_processed"] + 1
    snap = node.stats.snapshot()
    assert snap["pairs_dropped_bad_input"] == c["pairs_dropped_bad_input"]   # the same count in diagnostics

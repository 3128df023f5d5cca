"""Node options: compressed colour input, registration in the node (extrinsic from the parameter), 16UC1
output, cloud decimation (also changed at run time), publish_points off."""
import time

import numpy as np
from rclpy.parameter import Parameter

from dsr_diff_ros import convert as cv

from .harness import FRAME_ID, load_frames

NODE_PARAMS = {"rgb_compressed": True, "register_depth": True, "use_tf": False,
               "depth_to_rgb": [0.01, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0], "output_encoding": "16UC1",
               "points_decimation": 2}
FRAMES = load_frames(1)


def test_compressed_registered_16uc1_decimated(ros_graph):
    node, s, _ = ros_graph
    rgb, d, K = FRAMES[0]
    s.publish_pair(rgb, d, K, 50.0)
    assert s.wait("stats", 1) and s.wait("points", 1) and s.wait("depth", 1), node.stats.snapshot()
    m = s.got["depth"][0]
    assert (m.width, m.height, m.encoding, m.header.frame_id) == (320, 240, "16UC1", FRAME_ID)
    mm = cv.image_to_array(m)
    assert mm.dtype == np.uint16 and (mm > 0).any()
    pc = s.got["points"][0]
    assert (pc.height, pc.width) == (120, 160)
    a = cv.cloud_to_array(pc)
    z = cv.depth_from_image(m)[::2, ::2]
    np.testing.assert_allclose(np.where(z > 0, z, np.nan), a["z"], atol=6e-4, equal_nan=True)  # mm rounding
    assert (cv.unpack_rgb(a["rgb"]) == rgb[::2, ::2]).all()
    assert s.got["stats"][0].latency_register_ms > 0

    assert node.set_parameters([Parameter("points_decimation", value=4)])[0].successful
    s.clear()
    s.publish_pair(rgb, d, K, 51.0)
    assert s.wait("points", 1)
    assert (s.got["points"][0].height, s.got["points"][0].width) == (60, 80)

    assert node.set_parameters([Parameter("publish_points", value=False)])[0].successful
    s.clear()
    s.publish_pair(rgb, d, K, 52.0)
    assert s.wait("depth", 1)
    time.sleep(0.5)
    assert s.got["points"] == []


def test_registration_needs_depth_info(ros_graph):
    """With register_depth the depth camera_info is a fourth synchronised input: a frame without it is
    counted (frames_without_camera_info), never processed with another frame's info."""
    node, s, _ = ros_graph
    rgb, d, K = FRAMES[0]
    s.clear()
    before = dict(node.stats.counts)
    s.publish_info(K, 60.0, "rgb")                       # no depth camera info for this frame
    s.publish_pair(rgb, d, K, 60.0, infos=False)
    s.publish_pair(rgb, d, K, 61.0)                      # complete: processed, and 60 is given up
    assert s.wait("depth", 1), node.stats.snapshot()
    end = time.monotonic() + 10
    while node.stats.counts["frames_without_camera_info"] == before["frames_without_camera_info"] \
            and time.monotonic() < end:
        time.sleep(0.05)
    assert node.stats.counts["frames_without_camera_info"] == before["frames_without_camera_info"] + 1
    assert node.stats.counts["pairs_dropped_bad_input"] == before["pairs_dropped_bad_input"]
    assert "camera_info" in node.stats.last_error
    assert [m.header.stamp.sec for m in s.got["depth"]] == [61]


class _RecordingUpscaler:
    """The real Upscaler, recording on which thread (and with how many torch threads) warm-up ran; it can also
    be told to fail its warm-up."""

    def __init__(self, up, fail=False):
        self._up, self.fail, self.warm = up, fail, []

    def __getattr__(self, name):
        return getattr(self._up, name)

    def warmup(self):
        import threading

        import torch
        self.warm.append((threading.current_thread().name, torch.get_num_threads()))
        if self.fail:
            raise RuntimeError("no memory for the warm-up")


def test_warmup_runs_on_the_worker_before_the_node_is_ready(ros_graph, upscaler):
    from dsr_diff_ros.ros.node import UpscaleNode

    for fail in (False, True):
        rec = _RecordingUpscaler(upscaler, fail=fail)
        node = UpscaleNode(upscaler=rec, node_name=f"warm_{int(fail)}",
                           parameter_overrides=[Parameter("warmup", value=True), Parameter("cpu_threads", value=1)])
        try:
            assert rec.warm == [("dsr_diff_worker", 1)]      # done by the time the constructor returned
            assert node._worker.is_alive()                   # a failed warm-up does not end the worker
        finally:
            node.destroy_node()

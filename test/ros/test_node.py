"""The node with real rclpy and the real Upscaler: outputs, sync slop, bad inputs, run-time steps, latest-wins."""
import time

import numpy as np
import pytest
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image

from dsr_diff_ros import convert as cv

from .harness import FRAME_ID, load_frames

FRAMES = load_frames(3)


@pytest.fixture
def graph(ros_graph):
    node, sensor, _ = ros_graph
    sensor.clear()
    return node, sensor


def counts(node):
    return dict(node.stats.counts)


def settle(node, timeout=20.0):
    """Wait until the worker has nothing pending and is idle."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        c = counts(node)
        done = c["pairs_processed"] + c["pairs_dropped_bad_input"] + c["pairs_replaced"]
        if node._pending is None and done == c["pairs_received"] and last == c:
            return c
        last = c
        time.sleep(0.3)
    return counts(node)


def backproject_ref(depth, info):
    """Independent pinhole back-projection from the published CameraInfo (K)."""
    fx, fy, cx, cy = info.k[0], info.k[4], info.k[2], info.k[5]
    v, u = np.mgrid[0:depth.shape[0], 0:depth.shape[1]]
    return np.stack([(u - cx) / fx * depth, (v - cy) / fy * depth, depth], -1)


T0 = 1000.0


def test_outputs_sizes_stamps_points_stats(graph):
    node, s = graph
    for i, (rgb, d, K) in enumerate(FRAMES):
        s.publish_pair(rgb, d, K, T0 + i * 0.5)
        assert s.wait("stats", i + 1), f"no output for frame {i}: {node.stats.snapshot()}"
    assert s.wait("points", 3) and s.wait("info", 3) and s.wait("depth", 3)
    for i, (rgb, d, K) in enumerate(FRAMES):
        m = s.got["depth"][i]
        assert (m.width, m.height, m.encoding) == (320, 240, "32FC1")
        assert m.header.frame_id == FRAME_ID
        assert m.header.stamp.sec * 10**9 + m.header.stamp.nanosec == int((T0 + i * 0.5) * 1e9)
        depth = cv.depth_from_image(m)
        assert np.isnan(depth).any() or np.isfinite(depth).all()
        assert np.nanmin(depth) > 0 and np.nanmax(depth) <= d.max() + 1e-3  # within the input range (mm)
        info = s.got["info"][i]
        assert info.header == m.header and (info.width, info.height) == (320, 240)
        assert cv.info_to_intrinsics(info) == K
        pc = s.got["points"][i]
        assert pc.header == m.header and (pc.height, pc.width) == (240, 320) and pc.point_step == 32
        a = cv.cloud_to_array(pc)
        xyz = np.stack([a["x"], a["y"], a["z"]], -1)
        np.testing.assert_allclose(xyz, backproject_ref(depth.astype(np.float64), info), rtol=1e-5, atol=1e-6)
        assert (cv.unpack_rgb(a["rgb"]) == rgb).all()
        st = s.got["stats"][i]
        assert st.header == m.header
        assert (st.input_width, st.input_height, st.output_width, st.output_height) == (160, 120, 320, 240)
        assert st.scale == pytest.approx(2.0) and st.diffusion_steps == node.pipeline.steps
        assert st.latency_total_ms >= st.latency_inference_ms > 0
        assert 0 < st.valid_ratio_in <= 1 and 0 < st.valid_ratio_out <= 1
        assert st.device and st.model_id and st.pairs_processed >= i + 1


def test_pairs_beyond_slop_give_no_output(graph):
    node, s = graph
    rgb, d, K = FRAMES[0]
    before = counts(node)
    s.publish_pair(rgb, d, K, T0 + 10.0, depth_t=T0 + 10.05)   # 50 ms apart, slop 20 ms
    s.publish_pair(rgb, d, K, T0 + 11.0, depth_t=T0 + 11.03)
    time.sleep(1.5)
    assert counts(node)["pairs_received"] == before["pairs_received"] and s.got["depth"] == []
    s.publish_pair(rgb, d, K, T0 + 12.0, depth_t=T0 + 12.01)   # 10 ms: paired
    assert s.wait("depth", 1)
    assert s.got["depth"][0].header.stamp.sec == int(T0 + 12)


def bad_inputs():
    rgb, d, K = FRAMES[0]
    from std_msgs.msg import Header
    from .harness import stamp

    def img(arr, enc, **kw):
        m = cv.image_to_msg(arr, enc, Header(frame_id=FRAME_ID), Image)
        for k, v in kw.items():
            setattr(m, k, v)
        return m

    return {
        "rgb step too small": dict(rgb_msg=img(rgb, "rgb8", step=100)),
        "depth data truncated": dict(depth_msg=img(d, "32FC1", height=130)),
        "unknown encoding": dict(rgb_msg=img(rgb, "rgb8", encoding="yuv422")),
        "empty image": dict(rgb_msg=Image(header=Header(frame_id=FRAME_ID), encoding="rgb8")),
        "all negative depth": dict(depth_msg=img(-np.ones_like(d), "32FC1")),
        "depth aspect differs, registered": dict(depth_msg=img(np.ones((100, 160), np.float32), "32FC1")),
        "rgb/camera_info size wrong": dict(rgb_msg=img(rgb[:200], "rgb8")),
        "depth 8-bit": dict(depth_msg=img((d * 10).astype(np.uint8), "mono8")),
    }, stamp


@pytest.mark.parametrize("case", list(bad_inputs()[0]))
def test_bad_input_is_counted_and_node_recovers(graph, case):
    node, s = graph
    cases, stamp = bad_inputs()
    kw = dict(cases[case])
    rgb, d, K = FRAMES[1]
    base = T0 + 100 + 10 * list(cases).index(case)
    s.publish_info(K, base, "rgb")
    s.publish_info(K.scaled(d.shape[1], d.shape[0]), base, "depth")
    time.sleep(0.2)
    before = settle(node)
    t = base + 1.0
    for k in ("rgb_msg", "depth_msg"):
        if k in kw:
            kw[k].header.stamp = stamp(t)
    s.publish_pair(rgb, d, K, t, **kw)
    after = settle(node)
    assert after["pairs_dropped_bad_input"] == before["pairs_dropped_bad_input"] + 1, (case, after)
    assert len(s.got["depth"]) == 0
    s.publish_pair(rgb, d, K, base + 2.0)                              # good frames still processed
    assert s.wait("depth", 1), node.stats.snapshot()
    for m in s.got["depth"]:
        assert (m.width, m.height) == (320, 240)


def test_frame_without_camera_info_is_counted_not_guessed(graph):
    """camera_info is synchronised with the images: a frame whose info never comes is skipped and counted,
    even though an older info is at hand (the old lookup used it); the next complete frame is processed."""
    node, s = graph
    rgb, d, K = FRAMES[0]
    base = T0 + 700
    s.publish_pair(rgb, d, K, base)
    assert s.wait("depth", 1)
    before = settle(node)
    s.publish_pair(rgb, d, K, base + 1.0, infos=False)       # only older infos exist
    time.sleep(0.5)
    assert counts(node)["pairs_received"] == before["pairs_received"]  # not matched, not guessed
    s.publish_pair(rgb, d, K, base + 2.0)
    assert s.wait("depth", 2)
    after = settle(node)
    assert after["frames_without_camera_info"] == before["frames_without_camera_info"] + 1, after
    assert after["pairs_dropped_bad_input"] == before["pairs_dropped_bad_input"]
    assert "camera_info" in node.stats.last_error
    assert [m.header.stamp.sec for m in s.got["depth"]] == [int(base), int(base + 2)]


@pytest.mark.filterwarnings("ignore:depth .* colour resolution:UserWarning")   # the Upscaler says it too
def test_depth_at_the_colour_resolution_is_processed_counted_and_flagged(graph):
    """Depth already at the colour resolution (a topic aligned to the colour camera): upscaled like any frame (the
    output is still the colour grid), counted in pairs_low_ratio and named in the diagnostics message."""
    from diagnostic_msgs.msg import DiagnosticStatus, KeyValue

    from dsr_diff_ros.ros.diagnostics import to_status

    node, s = graph
    rgb, d, K = FRAMES[0]
    full = np.repeat(np.repeat(d, rgb.shape[0] // d.shape[0], 0), rgb.shape[1] // d.shape[1], 1)
    assert full.shape == rgb.shape[:2]
    before = settle(node)
    s.publish_pair(rgb, d, K, T0 + 800)                        # a normal pair: not counted
    assert s.wait("depth", 1)
    assert settle(node)["pairs_low_ratio"] == before["pairs_low_ratio"]
    s.publish_pair(rgb, full, K, T0 + 801)
    assert s.wait("depth", 2), node.stats.snapshot()
    after = settle(node)
    assert after["pairs_low_ratio"] == before["pairs_low_ratio"] + 1
    assert after["pairs_dropped_bad_input"] == before["pairs_dropped_bad_input"]
    m = s.got["depth"][1]
    assert (m.width, m.height) == (rgb.shape[1], rgb.shape[0])
    snap = {**node.stats.snapshot(), "input_rate_hz": 1.0, "output_rate_hz": 1.0, "pairs_dropped_bad_input": 0}
    st = to_status(snap, {}, DiagnosticStatus, KeyValue, "n", "cpu")
    assert "pairs_low_ratio" in st.message and st.level == bytes([0])


def test_negative_values_are_sanitised_not_dropped(graph):
    node, s = graph
    rgb, d, K = FRAMES[2]
    d2 = d.copy()
    d2[:10, :10] = -1.0
    d2[10:20, :10] = np.inf
    before = settle(node)
    from std_msgs.msg import Header
    from .harness import stamp
    raw = cv.image_to_msg(d2, "32FC1", Header(stamp=stamp(T0 + 300), frame_id=FRAME_ID), Image)  # keeps -1/inf
    s.publish_pair(rgb, d2, K, T0 + 300, depth_msg=raw)
    assert s.wait("depth", 1)
    after = settle(node)
    assert after["pairs_sanitised"] == before["pairs_sanitised"] + 1
    assert after["pairs_dropped_bad_input"] == before["pairs_dropped_bad_input"]


def test_time_going_backwards_resets(graph):
    node, s = graph
    rgb, d, K = FRAMES[0]
    s.publish_pair(rgb, d, K, T0 + 400)
    assert s.wait("depth", 1)
    r0 = counts(node)["time_resets"]
    s.publish_pair(rgb, d, K, T0 + 5)                                  # bag loop: 395 s back
    assert s.wait("depth", 2), node.stats.snapshot()
    assert counts(node)["time_resets"] >= r0 + 1
    assert s.got["depth"][1].header.stamp.sec == int(T0 + 5)
    s.publish_pair(rgb, d, K, T0 + 6)
    assert s.wait("depth", 3)


def test_steps_change_at_run_time(graph):
    node, s = graph
    rgb, d, K = FRAMES[0]
    n = node.pipeline.max_steps
    assert not node.set_parameters([Parameter("steps", value=0)])[0].successful
    assert not node.set_parameters([Parameter("steps", value=n + 1)])[0].successful
    new = 1 if node.pipeline.steps != 1 else min(2, n)
    assert node.set_parameters([Parameter("steps", value=new)])[0].successful
    s.publish_pair(rgb, d, K, T0 + 500)
    end = time.monotonic() + 30
    mine = []
    while not mine and time.monotonic() < end:
        mine = [m for m in list(s.got["stats"]) if m.header.stamp.sec == int(T0 + 500)]
        time.sleep(0.05)
    assert mine and mine[0].diffusion_steps == new


def test_latest_wins_under_load(graph):
    node, s = graph
    rgb, d, K = FRAMES[0]
    before = settle(node)
    for i in range(6):                                                 # burst, faster than inference
        s.publish_pair(rgb, d, K, T0 + 600 + i * 0.033)
        time.sleep(0.005)
    after = settle(node)
    got = after["pairs_received"] - before["pairs_received"]
    done = after["pairs_processed"] - before["pairs_processed"]
    replaced = after["pairs_replaced"] - before["pairs_replaced"]
    assert got == 6 and replaced >= 1 and done + replaced == 6
    stamps = [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in s.got["depth"]]
    assert stamps == sorted(stamps) and stamps[-1] == int(round((T0 + 600 + 5 * 0.033) * 1e9))


def test_diagnostics_published(graph):
    node, s = graph
    from diagnostic_msgs.msg import DiagnosticArray
    got = []
    sub = s.node.create_subscription(DiagnosticArray, "/diagnostics", got.append, 10)
    end = time.monotonic() + 5
    while not got and time.monotonic() < end:
        time.sleep(0.05)
    s.node.destroy_subscription(sub)
    assert got
    kv = {v.key: v.value for v in got[0].status[0].values}
    for k in ("input_rate_hz", "output_rate_hz", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms",
              "pairs_replaced", "pairs_dropped_bad_input", "device"):
        assert k in kv

"""Run-time parameters through the real parameter services: SetParametersAtomically validates the whole
list and applies all of it (from the next frame on) or none of it, with the reason; SetParameters keeps its
ROS 2 meaning (each parameter on its own)."""
import time

import numpy as np
from rcl_interfaces.msg import Parameter as ParameterMsg, ParameterType, ParameterValue
from rcl_interfaces.srv import SetParameters, SetParametersAtomically
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from dsr_diff_ros import convert as cv

from .harness import load_frames

FRAMES = load_frames(1)


def pmsg(name, value):
    v = ParameterValue()
    if isinstance(value, bool):
        v.type, v.bool_value = ParameterType.PARAMETER_BOOL, value
    else:
        v.type, v.integer_value = ParameterType.PARAMETER_INTEGER, value
    return ParameterMsg(name=name, value=v)


def call(node, srv, name, params):
    cli = node.create_client(srv, f"/depth_upscaler/{name}")
    try:
        assert cli.wait_for_service(timeout_sec=10.0)
        fut = cli.call_async(srv.Request(parameters=[pmsg(*p) for p in params]))
        end = time.monotonic() + 10
        while not fut.done() and time.monotonic() < end:
            time.sleep(0.02)
        assert fut.done(), f"{name} did not answer"
        return fut.result()
    finally:
        node.destroy_client(cli)


def values(node, *names):
    return [node.get_parameter(n).value for n in names]


NAMES = ("steps", "points_decimation", "fill_holes")


def test_atomic_update_is_rejected_as_a_whole_with_the_reason(ros_graph):
    node, s, _ = ros_graph
    before = values(node, *NAMES)
    bad = [("steps", 1), ("points_decimation", 99), ("fill_holes", not before[2])]
    res = call(s.node, SetParametersAtomically, "set_parameters_atomically", bad).result
    assert not res.successful and "points_decimation" in res.reason, res.reason
    assert values(node, *NAMES) == before
    assert node._updates == {}                     # nothing queued for the worker either
    bad = [("steps", 1), ("steps", node.pipeline.max_steps + 1)]
    res = call(s.node, SetParametersAtomically, "set_parameters_atomically", bad).result
    assert not res.successful and "steps" in res.reason and values(node, *NAMES) == before


def test_atomic_update_is_applied_as_a_whole_from_the_next_frame(ros_graph):
    node, s, _ = ros_graph
    steps = 1 if node.pipeline.steps != 1 else 2
    res = call(s.node, SetParametersAtomically, "set_parameters_atomically",
               [("steps", steps), ("points_decimation", 3), ("fill_holes", True)]).result
    assert res.successful, res.reason
    assert values(node, *NAMES) == [steps, 3, True]
    s.clear()
    rgb, d, K = FRAMES[0]
    s.publish_pair(rgb, d, K, 2000.0)
    assert s.wait("stats", 1) and s.wait("points", 1)
    assert s.got["stats"][0].diffusion_steps == steps
    assert (s.got["points"][0].height, s.got["points"][0].width) == (80, 107)   # ceil(240/3), ceil(320/3)
    assert (node.pipeline.steps, node.pipeline.decimation, node.pipeline.fill_holes) == (steps, 3, True)
    call(s.node, SetParametersAtomically, "set_parameters_atomically",
         [("points_decimation", 1), ("fill_holes", False)])


def test_set_parameters_service_answers_each_parameter(ros_graph):
    node, s, _ = ros_graph
    res = call(s.node, SetParameters, "set_parameters", [("points_decimation", 2), ("points_decimation", 0),
                                                         ("warmup", True)]).results
    assert [r.successful for r in res] == [True, False, False]
    assert res[2].reason and node.get_parameter("points_decimation").value == 2   # warmup is read-only
    call(s.node, SetParameters, "set_parameters", [("points_decimation", 1)])


def test_ensemble_is_a_runtime_parameter_and_the_output_is_the_apis(ros_graph):
    """ensemble 1 (the node's default) and 2 give the Upscaler's own outputs for the same frame, and they differ;
    a size outside 1, 2, 4, 8 is rejected with the reason."""
    node, s, _ = ros_graph
    assert node.get_parameter("ensemble").value == 1 and node.pipeline.ensemble == 1
    rgb, d, K = FRAMES[0]
    outs = {}
    for i, n in enumerate((1, 2)):
        res = call(s.node, SetParametersAtomically, "set_parameters_atomically", [("ensemble", n)]).result
        assert res.successful, res.reason
        s.clear()
        s.publish_pair(rgb, d, K, 3000.0 + i)
        assert s.wait("depth", 1)
        outs[n] = cv.depth_from_image(s.got["depth"][0])
    assert node.pipeline.ensemble == 2
    dq = cv.depth_from_image(cv.depth_to_msg(d, Header(frame_id="cam"), Image, "16UC1"))   # what the node gets
    for n, out in outs.items():
        ref = node.up.upscale(dq, rgb, steps=node.pipeline.steps, ensemble=n, fill_holes=False)
        np.testing.assert_allclose(out, ref, atol=1e-4, equal_nan=True)
    assert np.nanmean(np.abs(outs[2] - outs[1])) > 1e-4
    res = call(s.node, SetParametersAtomically, "set_parameters_atomically", [("ensemble", 3)]).result
    assert not res.successful and "ensemble=3" in res.reason and node.pipeline.ensemble == 2
    assert call(s.node, SetParametersAtomically, "set_parameters_atomically", [("ensemble", 1)]).result.successful


def test_check_update_reports_every_reason():
    from dsr_diff_ros.ros.params import check_update

    why = check_update({"steps": 9, "points_decimation": 0, "fill_holes": True, "qos_overrides./x": 1}, 4)
    assert len(why) == 2 and "steps=9" in why[0] and "points_decimation=0" in why[1]
    assert check_update({"steps": 4, "points_decimation": 16}, 4) == []

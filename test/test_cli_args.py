"""Command-line argument validation (dsr_diff_ros/cli/argtypes.py): bad values end with argparse's exit status 2
and a message naming the option and the value, before any data is read or a model loaded; valid values parse."""
import argparse
import math
from types import SimpleNamespace

import numpy as np
import pytest

from dsr_diff_ros.cli import argtypes, eval as eval_cli, make_bag, replay


def fails(main, argv, capsys, option, value=None):
    """main(argv) exits with status 2 and an error naming ``option`` (and ``value``)."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2, err
    assert f"argument {option}" in err, err
    if value is not None:
        assert repr(value) in err, err
    return err


EVAL = ["--data", "unused", "--methods", "bicubic"]
BAD_EVAL = [("--scales", v) for v in ("-4", "inf", "1000", "0", "nan", "1", "33", "x")] + [
    ("--sweep-scale", "0"), ("--unit", "furlong"), ("--edge-width", "-1"), ("--crop", "-5"), ("--max-frames", "0")]


@pytest.mark.parametrize("opt,value", BAD_EVAL)
def test_eval_rejects(opt, value, capsys):
    fails(eval_cli.main, EVAL + [opt, value], capsys, opt, value)


def test_eval_accepts():
    a = eval_cli.build_parser().parse_args(EVAL + ["--scales", "2", "2.5", "32", "--unit", "mm", "--crop", "0",
                                                   "--edge-width", "0", "--max-frames", "1", "--sweep-scale", "4"])
    assert a.scales == [2.0, 2.5, 32.0] and a.unit == "mm" and a.crop == 0 and a.edge_width == 0
    d = eval_cli.build_parser().parse_args(EVAL)
    assert d.scales == [4, 8, 16] and d.unit is None and d.crop is None and d.edge_width is None
    for unit in ("m", "cm", "255", "0-255", "raw"):
        assert eval_cli.build_parser().parse_args(EVAL + ["--unit", unit]).unit == unit


def test_eval_crop_leaving_no_pixel_skips_the_frame():
    from dsr_diff_ros.evaluation.protocols import build_methods, evaluate, get_protocol

    depth = np.full((48, 64), 2.0, np.float32)
    smp = SimpleNamespace(name="000", rgb=np.zeros((48, 64, 3), np.uint8), depth=depth)
    methods = build_methods(["bicubic"], None)
    res = evaluate([("seq", [smp])], methods, scales=(4,), protocol=get_protocol("sensor", crop=24),
                   modes=("bicubic",), progress=False)
    assert res.rows == []
    assert res.errors == [("seq/000", "border crop of 24 px leaves no pixel of the 64x48 frame; frame skipped")]
    res = evaluate([("seq", [smp])], methods, scales=(4,), protocol=get_protocol("sensor", crop=23),
                   modes=("bicubic",), progress=False)
    assert len(res.rows) == 1 and math.isfinite(res.rows[0]["rmse"]) and not res.errors


BAG = ["frames", "out_bag"]
BAD_BAG = [("--max-frames", "-1"), ("--max-frames", "0"), ("--repeat", "0"), ("--hole-rate", "2"),
           ("--hole-rate", "-0.1"), ("--noise-std", "-1"), ("--noise-std", "nan"), ("--edge-holes", "1.5"),
           ("--flying", "-1"), ("--max-range", "0"), ("--scale", "0.5"), ("--scale", "inf")]


@pytest.mark.parametrize("opt,value", BAD_BAG)
def test_make_bag_rejects(opt, value, capsys):
    fails(make_bag.main, BAG + ["--simulate", opt, value], capsys, opt, value)


def test_make_bag_accepts():
    a = make_bag.build_parser().parse_args(BAG + ["--simulate", "--max-frames", "1", "--repeat", "2", "--hole-rate",
                                                  "0", "--noise-std", "0", "--flying", "1", "--scale", "1"])
    c = make_bag.config_from_args(a)
    assert c.max_frames == 1 and c.repeat == 2 and c.sim.sensor.hole_rate == 0 and c.sim.sensor.noise_std == 0
    assert make_bag.build_parser().parse_args(BAG).max_frames is None


BAD_REPLAY = [("--queue-size", "0"), ("--max-frames", "-1"), ("--max-frames", "0"), ("--decimation", "0"),
              ("--decimation", "-2"), ("--hole-rate", "2"), ("--noise-std", "-1")]
BAD_NAMESPACES = ["bad//ns", "/a/", "/1a", "a/2b", "a-b", "/a b", "~/a", "//", "/" + "a" * 245]


@pytest.mark.parametrize("opt,value", BAD_REPLAY + [("--namespace", ns) for ns in BAD_NAMESPACES])
def test_replay_rejects(opt, value, capsys):
    fails(replay.main, ["in_bag", opt, value], capsys, opt, value)


def test_replay_accepts():
    a = replay.build_parser().parse_args(["in_bag", "--queue-size", "1", "--max-frames", "1", "--decimation", "2",
                                          "--namespace", "cam0/dsr_diff"])
    o = replay.options_from_args(a)
    assert (o.queue_size, o.max_frames, a.decimation, o.namespace) == (1, 1, 2, "/cam0/dsr_diff")
    d = replay.build_parser().parse_args(["in_bag"])
    assert (d.queue_size, d.max_frames, d.decimation, d.namespace) == (30, None, 1, "/dsr_diff")


GOOD_NAMESPACES = {"/": "/", "": "/", "/dsr_diff": "/dsr_diff", "dsr_diff": "/dsr_diff", "/a_1/_b": "/a_1/_b",
                   "cam0/x": "/cam0/x", "/" + "a" * 244: "/" + "a" * 244}


def test_ros_namespace():
    for text, want in GOOD_NAMESPACES.items():
        assert argtypes.ros_namespace(text) == want
    for text in BAD_NAMESPACES:
        with pytest.raises(argparse.ArgumentTypeError, match="invalid ROS namespace"):
            argtypes.ros_namespace(text)


def test_ros_namespace_agrees_with_rclpy():
    """Same verdict as rcl's validation of a node namespace (which needs it absolute: rclpy adds the '/')."""
    v = pytest.importorskip("rclpy.validate_namespace", reason="rclpy not installed").validate_namespace
    for text in list(GOOD_NAMESPACES) + BAD_NAMESPACES:
        absolute = "/" if text == "" else text if text.startswith("/") else "/" + text
        try:
            v(absolute)
            ok = True
        except Exception:
            ok = False
        try:
            argtypes.ros_namespace(text)
            ours = True
        except argparse.ArgumentTypeError:
            ours = False
        assert ours == ok, text


def test_range_messages():
    assert argtypes.sr_scale("2.5") == 2.5
    with pytest.raises(argparse.ArgumentTypeError, match=r"must be in \(1, 32\], got '-4'"):
        argtypes.sr_scale("-4")
    with pytest.raises(argparse.ArgumentTypeError, match="must be a finite number, got 'nan'"):
        argtypes.probability("nan")
    with pytest.raises(argparse.ArgumentTypeError, match="must be > 0, got '0'"):
        argtypes.positive_float("0")
    with pytest.raises(argparse.ArgumentTypeError, match="invalid integer '1.5'"):
        argtypes.positive_int("1.5")

"""argparse ``type=`` functions shared by the command-line tools. Each parses one value or raises
``argparse.ArgumentTypeError``, which argparse reports as ``error: argument --opt: <message>`` (exit status 2)
before anything runs. No ROS imports: the replay tools work without rclpy."""
from __future__ import annotations

import argparse
import math
import re

MAX_SCALE = 32  # HR/LR factor bound of the evaluation/simulation: a 640x480 frame keeps 20x15 LR pixels
NAMESPACE_MAX_LENGTH = 245  # rmw's limit on a node namespace (rclpy.validate_namespace)
_NS_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def int_range(lo: int | None = None, hi: int | None = None):
    """type=: an integer in [lo, hi] (None: unbounded on that side)."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"must be {_describe(lo, hi, False, False)}, got {text!r}")
        return v
    parse.__name__ = "int"
    return parse


def float_range(lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False):
    """type=: a finite float in the range lo..hi, each end closed (default) or open (None: unbounded)."""
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        below = lo is not None and (v <= lo if lo_open else v < lo)
        above = hi is not None and (v >= hi if hi_open else v > hi)
        if below or above:
            raise argparse.ArgumentTypeError(f"must be {_describe(lo, hi, lo_open, hi_open)}, got {text!r}")
        return v
    parse.__name__ = "float"
    return parse


def _describe(lo, hi, lo_open: bool, hi_open: bool) -> str:
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo:g}"
    return f"{'<' if hi_open else '<='} {hi:g}"


positive_int = int_range(1)
non_negative_int = int_range(0)
non_negative_float = float_range(0.0)
positive_float = float_range(0.0, lo_open=True)
probability = float_range(0.0, 1.0)
#: an evaluation scale: HR/LR factor > 1 (1 would be no super-resolution) and at most MAX_SCALE
sr_scale = float_range(1.0, MAX_SCALE, lo_open=True)


def ros_namespace(text: str) -> str:
    """type=: a ROS 2 namespace by rcl's rules (rclpy.validate_namespace): tokens of letters, digits and '_', not
    starting with a digit, separated by single '/', no trailing '/'. A relative name is made absolute, as rclpy
    does for a node's namespace; '' and '/' are the root namespace. Returns the absolute namespace."""
    if text in ("", "/"):
        return "/"
    rel = text[1:] if text.startswith("/") else text
    for tok in rel.split("/"):
        if not tok:
            why = "ends with '/'" if text.endswith("/") else "has an empty token ('//')"
            raise argparse.ArgumentTypeError(f"invalid ROS namespace {text!r}: {why}")
        if not _NS_TOKEN.fullmatch(tok):
            raise argparse.ArgumentTypeError(f"invalid ROS namespace {text!r}: token {tok!r} must be letters, "
                                             "digits and '_', not starting with a digit")
    if len(rel) + 1 > NAMESPACE_MAX_LENGTH:
        raise argparse.ArgumentTypeError(f"invalid ROS namespace {text!r}: longer than {NAMESPACE_MAX_LENGTH} "
                                         "characters")
    return "/" + rel

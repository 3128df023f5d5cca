"""``dsr-diff-node --help``: parameters (from ``params.PARAMS``), QoS overrides and topics (from
``topics.TOPICS``), printed without starting ROS."""
from __future__ import annotations

import textwrap

from . import params, qos, topics

EXAMPLE = """\
  dsr-diff-node --ros-args --params-file config/upscale.yaml -p device:=cpu -p steps:=2 -p register_depth:=true \\
      -r rgb/image:=/camera/camera/color/image_raw -r rgb/camera_info:=/camera/camera/color/camera_info \\
      -r depth/image:=/camera/camera/depth/image_rect_raw -r depth/camera_info:=/camera/camera/depth/camera_info
  (the depth at the sensor's own resolution: a depth aligned at the colour resolution leaves nothing to upscale)"""


def _range(name, rng):
    if name in params.CHOICES:
        return " | ".join(map(str, params.CHOICES[name]))
    return f"{rng[0]}..{rng[1]}" if rng is not None else ""


def _entry(name, default, rng, runtime, desc, width=100):
    """``  name = default   range   (runtime)`` then the description, wrapped and indented."""
    head = "  " + "   ".join(x for x in (f"{name} = {default}", rng and f"[{rng}]", runtime and "(runtime)") if x)
    return "\n".join([head] + textwrap.wrap(desc, width, initial_indent=" " * 6, subsequent_indent=" " * 6))


def usage() -> str:
    out = ["usage: dsr-diff-node [-h] [--ros-args [-p name:=value] [--params-file FILE] [-r topic:=new_topic] ...]",
           "",
           "Colour-guided depth super-resolution node (DSR-Diff): synchronises a colour image, its camera_info "
           "and a\nlow-resolution depth image and publishes the depth upsampled to the colour grid, its camera "
           "info and an\nXYZRGB cloud. Lazy by default: inputs are subscribed only while an output has a subscriber.",
           "", "parameters (name = default [range]; node name depth_upscaler; (runtime): changeable while "
           "running,\nseveral at once with set_parameters_atomically, else read-only):"]
    for name, (default, desc, rng, ro) in params.PARAMS.items():
        shown = '""' if default == "" else default
        out.append(_entry(name, shown, _range(name, rng), not ro, desc))
    s_name, s_default, s_range, s_desc = params.STEPS_HELP
    out.append(_entry(s_name, s_default, s_range, True, s_desc))
    out += ["", "QoS (read-only, standard rclpy overrides; <topic> is the resolved name after namespace and "
            "remapping):"]
    for kind, streams in (("subscription", ("rgb", "depth", "camera_info")),
                          ("publisher", ("image_out", "points_out", "stats"))):
        dflt = ", ".join(f"{s} {qos.DEFAULTS[s][0]}/{qos.DEFAULTS[s][1]}" for s in streams)
        out.append(f"  qos_overrides.<topic>.{kind}.{{reliability,depth,history}}\n      defaults: {dflt}")
    out += ["", "topics (relative to the node namespace; remap with -r name:=new_name):"]
    for name, typ, direction, desc in topics.TOPICS.values():
        out.append(f"  {direction:<4} {name:<28} {typ}\n{'':7}{desc}")
    out += ["", "example:", EXAMPLE, "", "docs: docs/node.md"]
    return "\n".join(out)


def wants_help(argv) -> bool:
    """-h/--help before any --ros-args (what follows --ros-args belongs to ROS)."""
    args = list(argv[1:])
    if "--ros-args" in args:
        args = args[:args.index("--ros-args")]
    return any(a in ("-h", "--help") for a in args)

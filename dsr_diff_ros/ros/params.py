"""Declaration of the node's ROS parameters (descriptions, ranges, read-only flags) in one table."""
from __future__ import annotations

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

from .qos import DEFAULTS as QOS_DEFAULTS

# name: (default, description, range (lo, hi) or None, read_only)
PARAMS = {
    "device": ("auto", "Inference device: auto (CUDA when available), cuda or cpu", None, True),
    "weights": ("", "Model weights (name or path to .safetensors); empty: the shipped default", None, True),
    "cpu_threads": (0, "PyTorch intra-op threads when inferring on the CPU; 0: auto = cores - 1 (at least 1), so "
                       "the ROS executor keeps a core: oversubscribed OpenMP threads stall inference", (0, 256), True),
    "warmup": (True, "Run one dummy inference at start-up so the first frame is not slow", None, True),
    "queue_size": (10, "Synchronizer queue size per input", (1, 100), True),
    "slop": (0.02, "Approximate-time synchronization slop [s] (max stamp difference RGB/depth)", (0.0, 1.0), True),
    "exact_sync": (False, "Exact stamp matching (TimeSynchronizer) instead of approximate", None, True),
    "rgb_compressed": (False, "Subscribe to sensor_msgs/CompressedImage on rgb/image/compressed", None, True),
    "register_depth": (False, "Register depth to the RGB camera in the node (needs both camera infos and "
                              "the depth->rgb extrinsic); false: depth is already registered", None, True),
    "use_tf": (True, "Look up the depth->rgb extrinsic with tf2 when importable", None, True),
    "depth_to_rgb": ([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
                     "Fallback depth->rgb optical-frame extrinsic [x y z qx qy qz qw] (m, quaternion)", None, True),
    "info_tolerance": (0.05, "Camera info may be this much newer than the image [s]", (0.0, 1.0), True),
    "time_jump_reset": (1.0, "Reset synchronizer and state when input stamps jump back more than this [s]",
                        (0.0, 3600.0), True),
    "output_encoding": ("32FC1", "Output depth encoding: 32FC1 metres NaN invalid (REP 118) or 16UC1 mm",
                        None, True),
    "fill_holes": (False, "Fill output pixels without input support (else NaN)", None, False),
    "publish_points": (True, "Publish the organized XYZRGB point cloud", None, False),
    "points_decimation": (1, "Keep every n-th row/column of the point cloud", (1, 16), False),
    "diagnostics_period": (1.0, "Period of /diagnostics [s]", (0.1, 60.0), True),
    "input_check_delay": (3.0, "Warn about silent inputs (no publisher / QoS mismatch) after this [s]",
                          (0.5, 600.0), True),
}
for _stream, (_rel, _depth) in QOS_DEFAULTS.items():
    PARAMS[f"qos.{_stream}.reliability"] = (_rel, f"QoS reliability of {_stream}: reliable or best_effort",
                                            None, True)
    PARAMS[f"qos.{_stream}.depth"] = (_depth, f"QoS history depth of {_stream}", (1, 1000), True)

CHOICES = {"device": ("auto", "cuda", "cpu"), "output_encoding": ("32FC1", "16UC1")}
CHOICES.update({f"qos.{s}.reliability": ("reliable", "best_effort") for s in QOS_DEFAULTS})


def descriptor(name: str, description: str, rng, read_only: bool, default) -> ParameterDescriptor:
    d = ParameterDescriptor(name=name, description=description, read_only=read_only)
    if name in CHOICES:
        d.additional_constraints = "one of: " + ", ".join(CHOICES[name])
    if rng is not None:
        lo, hi = rng
        if isinstance(default, float):
            d.floating_point_range = [FloatingPointRange(from_value=float(lo), to_value=float(hi), step=0.0)]
        else:
            d.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi), step=1)]
    return d


def declare_all(node) -> dict:
    """Declare every parameter on ``node``; returns {name: value}. Raises ValueError on a bad choice."""
    values = {}
    for name, (default, desc, rng, ro) in PARAMS.items():
        p = node.declare_parameter(name, default, descriptor(name, desc, rng, ro, default))
        values[name] = p.value
        if name in CHOICES and p.value not in CHOICES[name]:
            raise ValueError(f"parameter {name}={p.value!r} must be one of {CHOICES[name]}")
    return values


def declare_steps(node, num_steps: int, default_steps: int) -> int:
    """``steps`` (changeable at run time): diffusion steps 1..num_steps of the loaded model."""
    d = ParameterDescriptor(name="steps", description=f"Diffusion steps per frame (1..{num_steps}); "
                            "changeable at run time", integer_range=[IntegerRange(from_value=1, to_value=int(num_steps),
                                                                                  step=1)])
    return int(node.declare_parameter("steps", int(default_steps), d).value)

"""Declaration of the node's ROS parameters (descriptions, ranges, read-only flags) in one table."""
from __future__ import annotations

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

from ..pipeline import ENSEMBLE_SIZES

# name: (default, description, range (lo, hi) or None, read_only)
PARAMS = {
    "device": ("auto", "Inference device: auto (CUDA when available), cuda or cpu", None, True),
    "weights": ("", "Model weights (name or path to .safetensors); empty: the shipped default", None, True),
    "experts": ("auto", "auto: each frame goes to the holes expert (depth with holes), the sensor expert (hole-free "
                        "noisy depth) or a clean-input expert by its measured noise, holes and ratio (docs/model.md); "
                        "sensor: always the sensor expert (a camera that delivers quiet, hole-filled depth, which could "
                        "pass for a clean input)", None, True),
    "cpu_threads": (0, "PyTorch intra-op threads when inferring on the CPU; 0: auto = cores - 1 (at least 1), so "
                       "the ROS executor keeps a core: oversubscribed OpenMP threads stall inference", (0, 256), True),
    "warmup": (True, "Run one dummy inference at start-up so the first frame is not slow", None, True),
    "lazy": (True, "Subscribe to the inputs only while depth_upscaled/image, .../camera_info or .../points (with "
                   "publish_points) has a subscriber, as depth_image_proc does; false: always subscribed", None, False),
    "queue_size": (10, "Synchronizer queue size per input", (1, 100), True),
    "slop": (0.02, "Approximate-time synchronization slop [s] (max stamp spread of images and camera infos)", (0.0, 1.0), True),
    "exact_sync": (False, "Exact stamp matching (TimeSynchronizer) instead of approximate", None, True),
    "rgb_compressed": (False, "Subscribe to sensor_msgs/CompressedImage on rgb/image/compressed", None, True),
    "register_depth": (False, "Register depth to the RGB camera in the node (needs both camera infos and "
                              "the depth->rgb extrinsic); false: depth is already registered", None, True),
    "use_tf": (True, "Look up the depth->rgb extrinsic with tf2 when importable", None, True),
    "depth_to_rgb": ([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
                     "Fallback depth->rgb optical-frame extrinsic [x y z qx qy qz qw] (m, quaternion)", None, True),
    "time_jump_reset": (1.0, "Reset synchronizer and state when input stamps jump back more than this [s]",
                        (0.0, 3600.0), True),
    "output_encoding": ("32FC1", "Output depth encoding: 32FC1 metres NaN invalid (REP 118) or 16UC1 mm",
                        None, True),
    "ensemble": (1, "Self-ensemble: average the model over 1, 2, 4 or 8 flipped/transposed copies of each frame "
                    "(1-10 % lower RMSE at x2-x8 on the tune split, one network run per copy: 8 costs 8x the "
                    "latency on a CPU, about 3x on CUDA); changeable at run time. 1 keeps a CPU node real-time; "
                    "the Python API's default is the weights' (8 for the shipped model)", None, False),
    "fill_holes": (False, "Fill output pixels without input support (else NaN)", None, False),
    "publish_points": (True, "Publish the organized XYZRGB point cloud", None, False),
    "points_decimation": (1, "Keep every n-th row/column of the point cloud", (1, 16), False),
    "diagnostics_period": (1.0, "Period of /diagnostics [s]", (0.1, 60.0), True),
    "input_check_delay": (3.0, "Warn about silent inputs (no publisher / QoS mismatch) after this [s]",
                          (0.5, 600.0), True),
}
CHOICES = {"device": ("auto", "cuda", "cpu"), "output_encoding": ("32FC1", "16UC1"), "experts": ("auto", "sensor"),
           "ensemble": ENSEMBLE_SIZES}


def descriptor(name: str, description: str, rng, read_only: bool, default) -> ParameterDescriptor:
    d = ParameterDescriptor(name=name, description=description, read_only=read_only)
    if name in CHOICES:
        d.additional_constraints = "one of: " + ", ".join(map(str, CHOICES[name]))
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

# Changeable at run time (validated together by the node's parameter callback); steps is declared by the node.
RUNTIME = tuple(n for n, (_, _, _, ro) in PARAMS.items() if not ro) + ("steps",)

STEPS_HELP = ("steps", "model default (shipped: 1)", "1..model steps",
              "Diffusion steps per frame (declared once the model is loaded); changeable at run time")


def check_update(updates: dict, max_steps: int) -> list[str]:
    """Every reason why the parameter values ``updates`` {name: value}, taken together, cannot be applied
    (empty: they can). Names that are not the node's own (qos_overrides, use_sim_time) are left to rclpy."""
    why = []
    for name, v in updates.items():
        if name == "steps":
            rng = (1, max_steps)
        elif name in PARAMS:
            rng = PARAMS[name][2]
        else:
            continue
        if name in CHOICES and v not in CHOICES[name]:
            why.append(f"{name}={v!r} is not one of {', '.join(map(str, CHOICES[name]))}")
        if rng is not None and not (isinstance(v, (int, float)) and rng[0] <= v <= rng[1]):
            why.append(f"{name}={v!r} is outside {rng[0]}..{rng[1]}")
    return why

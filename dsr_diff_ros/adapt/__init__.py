"""Self-supervised adaptation of DSR-Diff to a user's own recording (no high-resolution ground truth).

>>> from dsr_diff_ros.adapt import adapt
>>> res = adapt("my_recording", "my_sensor")   # writes my_sensor.safetensors + my_sensor.json

Modules: ``recording`` (bag / folder -> pairs, the replay's readers), ``profile`` (sensor profile estimation),
``samples`` (cross-scale and real-scale batches), ``losses``, ``loop`` (the optimisation, hold-out gate, output),
``state`` (resume), ``simulate`` (recordings of a known sensor for the benchmark and tests). No ROS imports.
"""
from .config import AdaptConfig
from .loop import AdaptResult, adapt
from .profile import SensorProfile, estimate_profile

__all__ = ["adapt", "AdaptConfig", "AdaptResult", "SensorProfile", "estimate_profile"]

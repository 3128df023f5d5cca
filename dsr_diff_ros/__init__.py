"""dsr_diff_ros: colour-guided depth super-resolution (DSR-Diff) for ROS 2.

Public face: ``Upscaler`` (the only door into the networks) and ``Frame``.
"""
from .frame import Frame, Intrinsics

__version__ = "0.1.0"
__all__ = ["Upscaler", "Frame", "Intrinsics", "__version__"]


def __getattr__(name):  # lazy: importing the package must not import torch
    if name == "Upscaler":
        from .inference import Upscaler
        return Upscaler
    raise AttributeError(name)

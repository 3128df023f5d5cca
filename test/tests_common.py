"""Paths shared by tests: the real Kinect frames bundled with the package (MIT, slambook2)."""
from pathlib import Path

import dsr_diff_ros

SAMPLE = Path(dsr_diff_ros.__file__).resolve().parent / "replay" / "sample"

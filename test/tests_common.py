"""Paths shared by tests: the real Kinect frames bundled with the package (MIT, slambook2), and the larger shared
data sets (``dsr_diff_ros.data.shared``), skipped with the reason when absent."""
import pytest

from dsr_diff_ros.data.shared import SAMPLE, missing_reason, shared_path  # noqa: F401  (SAMPLE re-exported)


def shared_or_skip(*parts: str):
    """Path of a shared data set (e.g. ``shared_or_skip("rgbd", "tum_kinect")``); skips the test when absent."""
    p = shared_path(*parts)
    if p is None:
        pytest.skip(missing_reason(*parts))
    return p

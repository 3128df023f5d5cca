"""Test-wide setup: isolate ROS 2 traffic of this test run (before anything imports rclpy).

`make test` sets the same variables; this covers a plain `python -m pytest`.
"""
import os
import random
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(1, 200)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
_profile = REPO_ROOT / "config" / "fastdds_shm.xml"
if _profile.is_file():
    os.environ.setdefault("FASTDDS_DEFAULT_PROFILES_FILE", str(_profile))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running test (deselect with -m 'not slow')")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT

"""The ROS 2 workspace route: colcon builds and installs the package (scripts/check_colcon.sh)."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("DSR_SKIP_COLCON") == "1", reason="DSR_SKIP_COLCON=1")
@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
def test_colcon_build_and_import():
    env = dict(os.environ)
    # the script sets up its own ROS environment; do not leak this test process's overrides
    for var in ("PYTHONPATH", "AMENT_PREFIX_PATH", "CMAKE_PREFIX_PATH"):
        env.pop(var, None)
    proc = subprocess.run(["bash", str(REPO / "scripts" / "check_colcon.sh")], cwd=str(REPO), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    out = proc.stdout.decode(errors="replace")
    assert proc.returncode == 0, out[-6000:]
    assert "[colcon] OK" in out

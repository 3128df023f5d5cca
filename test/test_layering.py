"""The core and the replay never import rclpy: ros/ holds the only code that needs it."""
import subprocess
import sys

CORE = ["dsr_diff_ros.convert", "dsr_diff_ros.sync", "dsr_diff_ros.sync_watch", "dsr_diff_ros.pipeline",
        "dsr_diff_ros.geometry", "dsr_diff_ros.frame", "dsr_diff_ros.replay.driver", "dsr_diff_ros.replay.codec",
        "dsr_diff_ros.ros.topics"]


def test_core_and_replay_do_not_import_rclpy():
    code = ("import importlib, sys\n"
            f"for m in {CORE!r}: importlib.import_module(m)\n"
            "print(sorted(k for k in sys.modules if k == 'rclpy' or k.startswith('rclpy.')))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]", p.stdout

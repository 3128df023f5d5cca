"""Launch file, config file and the dsr-diff-node console script."""
import ast
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / "launch" / "upscale.launch.py"


def test_launch_file_declares_arguments():
    src = LAUNCH.read_text()
    ast.parse(src)
    for arg in ("namespace", "device", "steps", "weights", "use_sim_time", "use_shm", "rgb_image", "rgb_info",
                "depth_image", "depth_info", "FASTDDS_DEFAULT_PROFILES_FILE", "fastdds_shm.xml", "upscale.yaml",
                "lazy", "cloud", "depth_image_proc::PointCloudXyzrgbNode", "depth_registered/image_rect",
                "rgb/image_rect_color", "publish_points", "ensemble", "register_depth",
                "/camera/camera/depth/image_rect_raw"):
        assert arg in src, arg
    # the default inputs are the native depth: one aligned to the colour image has nothing left to upscale
    assert "aligned_depth_to_color" not in src


def test_launch_file_parses_with_launch_ros():
    pytest.importorskip("launch_ros", reason="launch_ros is not installed in this environment")
    import importlib.util

    from launch import LaunchDescription

    spec = importlib.util.spec_from_file_location("upscale_launch", LAUNCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ld = mod.generate_launch_description()
    assert isinstance(ld, LaunchDescription)
    names = {a.name for a in ld.get_launch_arguments()}
    assert {"namespace", "device", "steps", "weights", "use_sim_time", "use_shm", "lazy", "cloud", "ensemble",
            "register_depth"} <= names


def test_config_matches_declared_parameters():
    from dsr_diff_ros.ros.params import PARAMS

    cfg = yaml.safe_load((REPO / "config" / "upscale.yaml").read_text())["/**"]["ros__parameters"]

    def flat(d, pre=""):
        for k, v in d.items():
            if isinstance(v, dict):
                yield from flat(v, pre + k + ".")
            else:
                yield pre + k, v
    for k, v in flat(cfg):
        assert k in PARAMS, f"config/upscale.yaml sets undeclared parameter {k}"
        assert type(v) is type(PARAMS[k][0]), (k, v)


def test_console_script_runs_with_params_file(upscaler):
    if upscaler.model_id == "untrained":
        pytest.skip("no trained weights: the node process cannot load Upscaler.from_pretrained()")
    exe = shutil.which("dsr-diff-node") or str(Path(sys.executable).parent / "dsr-diff-node")
    if not Path(exe).exists():
        pytest.skip("dsr-diff-node console script not installed (pip install -e .)")
    import rclpy

    p = subprocess.Popen([exe, "--ros-args", "--params-file", str(REPO / "config" / "upscale.yaml"),
                          "-p", "device:=cpu", "-p", "warmup:=false", "-r", "__ns:=/cli_test"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    rclpy.init()
    try:
        probe = rclpy.create_node("probe")
        end, found = time.monotonic() + 90, False
        while time.monotonic() < end and not found and p.poll() is None:
            rclpy.spin_once(probe, timeout_sec=0.2)
            found = ("depth_upscaler", "/cli_test") in probe.get_node_names_and_namespaces() and \
                probe.count_publishers("/cli_test/depth_upscaled/image") == 1
        assert found, p.stdout.read() if p.poll() is not None else "node not seen in the graph"
        probe.destroy_node()
    finally:
        rclpy.shutdown()
        p.send_signal(signal.SIGINT)
        try:
            out, _ = p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
    assert p.returncode in (0, -signal.SIGINT), out
    assert "Traceback" not in out, out


def test_console_script_help_prints_usage_and_exits():
    """--help: every parameter of the table with its default and range, every topic, an example; exit 0
    without starting ROS (the node, left running, would print its start-up log and never exit)."""
    from dsr_diff_ros.ros.params import CHOICES, PARAMS
    from dsr_diff_ros.ros.topics import TOPICS

    exe = shutil.which("dsr-diff-node") or str(Path(sys.executable).parent / "dsr-diff-node")
    if not Path(exe).exists():
        pytest.skip("dsr-diff-node console script not installed (pip install -e .)")
    for flag in ("--help", "-h"):
        p = subprocess.run([exe, flag], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        out = p.stdout
        assert out.startswith("usage: dsr-diff-node") and "[INFO]" not in out + p.stderr
        for name, (default, desc, rng, ro) in PARAMS.items():
            shown = '""' if default == "" else default
            assert f"  {name} = {shown}" in out, name
            assert desc.split()[0] in out
            if rng is not None:
                assert f"[{rng[0]}..{rng[1]}]" in out, name
        for name, choices in CHOICES.items():
            assert " | ".join(map(str, choices)) in out
        for topic, typ, _, _ in TOPICS.values():
            assert topic in out and typ in out
        assert "steps = " in out and "qos_overrides.<topic>.subscription" in out and "--ros-args" in out


def test_docs_list_every_parameter_and_topic():
    from dsr_diff_ros.ros.params import PARAMS
    from dsr_diff_ros.ros.topics import TOPICS

    doc = (REPO / "docs" / "node.md").read_text()
    for name in list(PARAMS) + ["steps"]:
        assert f"| `{name}`" in doc, f"docs/node.md: parameter {name} missing from the table"
    for topic, *_ in TOPICS.values():
        assert f"`{topic}`" in doc, topic

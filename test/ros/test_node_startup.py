"""A failed start-up shows its own error: destroy_node (and rclpy.shutdown, which destroys tracked nodes) work
from any partially built state of UpscaleNode."""
import subprocess
import sys
import threading

import pytest

rclpy = pytest.importorskip("rclpy")
from rclpy.parameter import Parameter  # noqa: E402

from dsr_diff_ros.ros.node import UpscaleNode  # noqa: E402


@pytest.fixture
def ctx():
    c = rclpy.Context()
    rclpy.init(context=c)
    yield c
    if c.ok():
        rclpy.shutdown(context=c)


def test_bad_weights_path_raises_its_own_error(ctx, tmp_path):
    bad = str(tmp_path / "no_such_weights.safetensors")
    with pytest.raises(FileNotFoundError, match="no_such_weights") as ei:
        UpscaleNode(context=ctx, parameter_overrides=[Parameter("weights", value=bad),
                                                      Parameter("device", value="cpu")])
    half_built = [f.frame.f_locals["self"] for f in ei.traceback if isinstance(f.frame.f_locals.get("self"),
                                                                                UpscaleNode)]
    assert half_built                    # the traceback keeps it alive, as in dsr-diff-node's finally clause
    rclpy.shutdown(context=ctx)          # destroys the half-built node tracked by the context: must not raise


def test_failure_after_worker_started_stops_the_worker(ctx, upscaler, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("timer creation failed on purpose")

    before = {t.ident for t in threading.enumerate()}
    monkeypatch.setattr(UpscaleNode, "create_timer", boom)
    with pytest.raises(RuntimeError, match="on purpose") as ei:
        UpscaleNode(upscaler=upscaler, context=ctx, parameter_overrides=[Parameter("warmup", value=False)])
    workers = [t for t in threading.enumerate() if t.name == "dsr_diff_worker" and t.ident not in before]
    assert workers, "the worker should have been started before the failure"
    rclpy.shutdown(context=ctx)
    for t in workers:
        t.join(timeout=5.0)
        assert not t.is_alive(), "destroy_node left the worker thread running"


def test_cli_prints_the_start_up_error_not_an_attribute_error(tmp_path):
    bad = str(tmp_path / "missing_weights")
    p = subprocess.run([sys.executable, "-m", "dsr_diff_ros.cli.node", "--ros-args", "-p", f"weights:={bad}",
                        "-p", "device:=cpu"], capture_output=True, text=True, timeout=120)
    assert p.returncode != 0
    assert "missing_weights" in p.stderr and "not found" in p.stderr, p.stderr[-2000:]
    assert "AttributeError" not in p.stderr, p.stderr[-2000:]


def test_experts_parameter_loads_the_sensor_expert_alone(ctx):
    """experts:=sensor -> no clean-input expert (each frame runs the sensor expert); auto -> the shipped routing;
    a value outside the choices is refused with the parameter's name."""
    over = [Parameter("device", value="cpu"), Parameter("warmup", value=False)]
    node = UpscaleNode(context=ctx, parameter_overrides=over + [Parameter("experts", value="sensor")])
    try:
        assert node.up.clean is None and node.up.clean_bands == [] and "+" not in node.up.model_id
    finally:
        node.destroy_node()
    node = UpscaleNode(context=ctx, parameter_overrides=over)
    try:
        assert node.up.clean is not None
    finally:
        node.destroy_node()
    with pytest.raises(ValueError, match="experts"):
        UpscaleNode(context=ctx, parameter_overrides=over + [Parameter("experts", value="clean")])
    rclpy.shutdown(context=ctx)


CTRL_C_DURING_START = """
import sys
import rclpy
import dsr_diff_ros.ros.node as rn
class Interrupted(rn.UpscaleNode):
    def __init__(self):
        rclpy.shutdown()  # what rclpy's SIGINT handler does when Ctrl-C lands while the node is being built
        super().__init__()
rn.UpscaleNode = Interrupted
from dsr_diff_ros.cli.node import main
sys.exit(main(["dsr-diff-node"]))
"""


def test_cli_ctrl_c_during_start_up_is_a_clean_stop():
    """The context shut down under the constructor (Ctrl-C while loading the weights): exit 0, no traceback."""
    p = subprocess.run([sys.executable, "-c", CTRL_C_DURING_START], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr, p.stderr

"""End-to-end replay: output bag contents and stamps, metrics, bad input, Ctrl-C mid-run, CLIs."""
from __future__ import annotations

import json

import numpy as np
import pytest

from dsr_diff_ros.pipeline import Pipeline
from dsr_diff_ros.replay.bagio import BagReader, BagWriter
from dsr_diff_ros.replay.codec import Encoder, decode_depth, header_ns
from dsr_diff_ros.replay.driver import Replay, ReplayError, ReplayOptions
from dsr_diff_ros.replay.make_bag import MakeBagConfig, make_bag
from dsr_diff_ros.replay.models import BaselineUpscaler
from dsr_diff_ros.replay.report import write_report
from dsr_diff_ros.replay.topics import TopicError

OUT = "/dsr_diff/depth_upscaled/image"


def _stamps(bag, topic):
    with BagReader(bag) as r:
        return [(t, header_ns(r.deserialize(tp, raw))) for tp, t, raw in r.messages([topic])]


def test_replay_output_bag(sim_bag, upscaler, tmp_path):
    out = tmp_path / "out"
    res = Replay(Pipeline(upscaler), ReplayOptions(points=True, progress=False)).run(sim_bag, out)
    assert res.frames == 4 and res.dropped == 0 and res.has_gt
    with BagReader(out) as r:
        counts = {t: i.count for t, i in r.topics.items()}
        assert counts[OUT] == counts["/dsr_diff/depth_upscaled/camera_info"] == 4
        assert counts["/dsr_diff/depth_upscaled/points"] == counts["/dsr_diff/stats"] == 4
        assert counts["/camera/camera/color/image_raw"] == counts["/ground_truth/depth/image_raw"] == 4
        assert r.topics["/dsr_diff/stats"].msgtype in ("dsr_diff_ros/msg/UpscaleStats", "std_msgs/msg/String")
        (_, _, raw), *_ = list(r.messages([OUT]))
        d = decode_depth(r.deserialize(OUT, raw), "sensor_msgs/msg/Image")
        assert d.shape == (120, 160) and d.dtype == np.float32
        (_, _, raw), *_ = list(r.messages(["/dsr_diff/stats"]))
        st = r.deserialize("/dsr_diff/stats", raw)
        if hasattr(st, "input_width"):
            assert (st.input_width, st.output_width, st.scale) == (40, 160, 4.0)
    # stamps preserved: output header stamps and log times equal the input colour ones
    assert _stamps(out, OUT) == _stamps(sim_bag, "/camera/camera/color/image_raw")
    assert _stamps(out, "/dsr_diff/depth_upscaled/camera_info") == _stamps(sim_bag, "/camera/camera/color/image_raw")
    with BagReader(out) as r:
        for tp, _, raw in r.messages(["/dsr_diff/depth_upscaled/camera_info"]):
            m = r.deserialize(tp, raw)
            assert (m.width, m.height, m.k[0], m.k[2]) == (160, 120, 130.0, 79.5)
    s = res.summary
    assert set(s) == {"dsr_diff", "bicubic", "guided"} or set(s) == {"baseline:bicubic", "bicubic", "guided"}
    for v in s.values():
        assert v["n_frames"] == 4 and v["rmse"] is not None and v["temporal"] is not None
    rep = write_report(res, tmp_path / "rep")
    data = json.loads((tmp_path / "rep" / "replay.json").read_text())
    assert data["frames"] == 4 and len(data["per_frame"]["bicubic"]) == 4
    for k in ("side_by_side", "error_maps", "rmse_per_frame", "latency_hist"):
        assert (tmp_path / "rep" / f"{k}.png").stat().st_size > 1000, k
    assert "| bicubic | 4 |" in (tmp_path / "rep" / "report.md").read_text()


def test_simulate_from_good_depth(frames_dir, upscaler, sim_config, tmp_path):
    bag = tmp_path / "good"
    make_bag(frames_dir, bag, MakeBagConfig(storage="mcap"))
    res = Replay(Pipeline(upscaler), ReplayOptions(simulate=sim_config, progress=False, baselines=())).run(
        bag, tmp_path / "out")
    assert res.frames == 4 and res.has_gt and res.topics["depth"].endswith("aligned_depth_to_color/image_raw")
    with BagReader(tmp_path / "out") as r:
        assert r.topics["/dsr_diff/sim/depth/image"].count == 4
        (_, _, raw), *_ = list(r.messages(["/dsr_diff/sim/depth/image"]))
        assert decode_depth(r.deserialize("/dsr_diff/sim/depth/image", raw), "sensor_msgs/msg/Image").shape == (30, 40)


class _Interrupting(BaselineUpscaler):
    def __init__(self, after):
        super().__init__("bicubic")
        self.calls, self.after = 0, after

    def upscale(self, *a, **k):
        self.calls += 1
        if self.calls > self.after:
            raise KeyboardInterrupt
        return super().upscale(*a, **k)


def test_ctrl_c_leaves_readable_bag(sim_bag, tmp_path):
    out = tmp_path / "out"
    res = Replay(Pipeline(_Interrupting(2)), ReplayOptions(progress=False)).run(sim_bag, out)
    assert res.interrupted and res.frames == 2
    with BagReader(out) as r:
        assert r.topics[OUT].count == 2 and r.topics["/dsr_diff/stats"].count == 2
        assert len(list(r.messages([OUT]))) == 2
    assert res.summary["bicubic"]["n_frames"] == 2


def _bag_without(frames_dir, tmp_path, drop=(), resize_depth=None):
    """A copy of the sim bag without some topics (or with the LR camera info of a wrong size)."""
    src = tmp_path / "src"
    make_bag(frames_dir, src, MakeBagConfig(sim=__import__("dsr_diff_ros.replay.sensor", fromlist=["x"])
                                            .SimSensorConfig(size=(40, 30))))
    dst = tmp_path / "dst"
    with BagReader(src) as r, BagWriter(dst) as w:
        enc = Encoder(w.typestore)
        for t, ts, raw in r.messages(list(r.topics)):
            if t in drop:
                continue
            if resize_depth and t == "/camera/camera/depth/image_rect_raw":
                m = r.deserialize(t, raw)
                w.write(t, enc.depth(np.ones(resize_depth, np.float32), m.header), ts)
                continue
            w.copy(r, t, raw, ts)
    return dst


def test_registering_replay_prefers_the_native_depth(frames_dir, upscaler, tmp_path):
    """A realsense-style bag with both the depth aligned to colour (at the colour resolution) and the sensor's own
    LR depth: without registration the aligned one is replayed (as before), with --register the native one."""
    src = _bag_without(frames_dir, tmp_path)
    bag = tmp_path / "both"
    aligned = "/camera/camera/aligned_depth_to_color"
    with BagReader(src) as r, BagWriter(bag) as w:
        for t, ts, raw in r.messages(list(r.topics)):
            w.copy(r, t, raw, ts)
            if t == "/ground_truth/depth/image_raw":
                w.copy(r, t, raw, ts, out_topic=f"{aligned}/image_raw")
            elif t == "/ground_truth/depth/camera_info":
                w.copy(r, t, raw, ts, out_topic=f"{aligned}/camera_info")
    res = Replay(Pipeline(upscaler), ReplayOptions(progress=False)).run(bag, tmp_path / "o1")
    assert res.topics["depth"] == f"{aligned}/image_raw" and res.frames == 4
    res = Replay(Pipeline(upscaler, register=True), ReplayOptions(progress=False)).run(bag, tmp_path / "o2")
    assert res.topics["depth"] == "/camera/camera/depth/image_rect_raw" and res.frames == 4
    assert res.topics["gt"] == "/ground_truth/depth/image_raw" and res.has_gt


def test_missing_camera_info(frames_dir, upscaler, tmp_path):
    bag = _bag_without(frames_dir, tmp_path, drop=("/camera/camera/color/camera_info",))
    with pytest.raises(ReplayError, match="(?s)no camera_info.*--camera-yaml.*/camera/camera/color/image_raw"):
        Replay(Pipeline(upscaler), ReplayOptions(progress=False)).run(bag, tmp_path / "out")
    res = Replay(Pipeline(upscaler), ReplayOptions(progress=False, camera_yaml=str(frames_dir / "camera.yaml"))
                 ).run(bag, tmp_path / "out2")
    assert res.frames == 4


def test_unknown_topic_lists_bag(sim_bag, upscaler, tmp_path):
    with pytest.raises(TopicError, match="(?s)'/nope' is not in the bag.*/ground_truth/depth/image_raw"):
        Replay(Pipeline(upscaler), ReplayOptions(depth="/nope", progress=False)).run(sim_bag, tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_mismatched_sizes_are_skipped_with_reason(frames_dir, upscaler, tmp_path):
    bag = _bag_without(frames_dir, tmp_path, resize_depth=(30, 30))
    res = Replay(Pipeline(upscaler), ReplayOptions(progress=False)).run(bag, tmp_path / "out")
    assert res.frames == 0 and res.dropped == 4
    assert "30x30" in res.drop_reasons[0]


def test_cli_replay_and_make_bag(frames_dir, tmp_path, capsys):
    from dsr_diff_ros.cli import make_bag as mb
    from dsr_diff_ros.cli import replay as rp

    assert mb.main([str(frames_dir), str(tmp_path / "b"), "--storage", "mcap", "--simulate", "--lr-size", "40x30"]) == 0
    assert rp.main([str(tmp_path / "b"), "--list-topics"]) == 0
    assert "/ground_truth/depth/image_raw" in capsys.readouterr().out
    rc = rp.main([str(tmp_path / "b"), "-o", str(tmp_path / "o"), "--model", "bicubic", "--report",
                  str(tmp_path / "rep"), "--no-progress", "--no-figures", "--baselines", "guided"])
    assert rc == 0 and (tmp_path / "rep" / "replay.json").exists()
    assert rp.main([str(tmp_path / "missing")]) == 1
    assert "no such bag" in capsys.readouterr().err


def test_demo_runs(tmp_path, capsys):
    from dsr_diff_ros.cli import demo

    assert demo.main(["--out", str(tmp_path / "demo"), "--model", "bicubic", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "| guided | 5 |" in out and (tmp_path / "demo" / "report.md").exists()


def test_replay_experts_option_loads_the_sensor_expert_alone(sim_bag, tmp_path):
    from dsr_diff_ros.cli import replay as rp
    from dsr_diff_ros.replay.models import load_model

    assert load_model("dsr_diff", None, "cpu", "sensor").clean is None
    assert load_model("dsr_diff", None, "cpu").clean is not None
    with pytest.raises(SystemExit) as e:
        rp.main([str(sim_bag), "-o", str(tmp_path / "o"), "--experts", "clean"])
    assert e.value.code == 2

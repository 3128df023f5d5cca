"""Reading a recording for adaptation: rosbag2 (sqlite3, mcap), ROS 1 bag, RGB-D folder with LR depth PNGs,
``--simulate``; the ground-truth topic is never read; the CLI."""
import json

import cv2
import numpy as np
import pytest

from dsr_diff_ros.adapt.recording import RecordingError, read_recording
from dsr_diff_ros.adapt.simulate import GT_TOPIC, write_bag
from dsr_diff_ros.cli import adapt as cli
from dsr_diff_ros.replay.driver import ReplayOptions
from dsr_diff_ros.replay.sensor import SimSensorConfig


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_rosbag2(sim_frames, scenes, tmp_path, storage):
    rgb, lr = sim_frames
    write_bag(tmp_path / "b", rgb[:5], lr[:5], scenes[1][:5], storage=storage)
    rec = read_recording(tmp_path / "b")
    assert len(rec) == 5 and rec.rgb_hw == (120, 160) and rec.lr_hw == (33, 44)
    np.testing.assert_array_equal(rec.rgb[2], rgb[2])
    np.testing.assert_allclose(rec.depth[2], np.round(lr[2] * 1000) / 1000, atol=1e-6)   # 16UC1 millimetres
    assert GT_TOPIC not in rec.source.values() and rec.source["depth_topic"].endswith("depth/image_rect_raw")
    assert len(read_recording(tmp_path / "b", max_frames=3)) == 3


def test_ros1_bag(sim_frames, tmp_path):
    from rosbags.rosbag1 import Writer as Writer1
    from rosbags.typesys import Stores, get_typestore

    ts = get_typestore(Stores.ROS1_NOETIC)
    Img, Hdr, Time = (ts.types[k] for k in ("sensor_msgs/msg/Image", "std_msgs/msg/Header", "builtin_interfaces/msg/Time"))
    rgb, lr = sim_frames
    with Writer1(tmp_path / "rec.bag") as w:
        cc = w.add_connection("/camera/rgb/image_color", "sensor_msgs/msg/Image", typestore=ts)
        cd = w.add_connection("/camera/depth/image", "sensor_msgs/msg/Image", typestore=ts)
        for i in range(3):
            t = 10 ** 9 + i * 33_000_000
            hdr = Hdr(seq=i, stamp=Time(sec=t // 10 ** 9, nanosec=t % 10 ** 9), frame_id="f")
            c = Img(header=hdr, height=120, width=160, encoding="rgb8", is_bigendian=0, step=480,
                    data=rgb[i].reshape(-1))
            d = Img(header=hdr, height=33, width=44, encoding="32FC1", is_bigendian=0, step=176,
                    data=lr[i].view(np.uint8).reshape(-1))
            w.write(cc, t, ts.serialize_ros1(c, "sensor_msgs/msg/Image"))
            w.write(cd, t, ts.serialize_ros1(d, "sensor_msgs/msg/Image"))
    rec = read_recording(tmp_path / "rec.bag")
    assert len(rec) == 3 and rec.lr_hw == (33, 44)
    np.testing.assert_array_equal(rec.depth[1], lr[1])


def _folder(root, rgbs, depths, n=4):
    root.mkdir()
    for i in range(n):
        cv2.imwrite(str(root / f"{i:03d}_color.png"), cv2.cvtColor(rgbs[i], cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(root / f"{i:03d}_depth.png"), np.round(depths[i] * 1000).astype(np.uint16))
    (root / "camera.yaml").write_text("width: 160\nheight: 120\nfx: 140\nfy: 140\ncx: 79.5\ncy: 59.5\n"
                                      "depth_scale: 0.001\n")
    return root


def test_folder_with_low_resolution_depth(sim_frames, tmp_path):
    rec = read_recording(_folder(tmp_path / "f", *sim_frames))
    assert len(rec) == 4 and rec.lr_hw == (33, 44) and rec.rgb_hw == (120, 160)


def test_folder_simulated(scenes, tmp_path):
    o = ReplayOptions(simulate=SimSensorConfig(size=(40, 30)))
    rec = read_recording(_folder(tmp_path / "f", *scenes), o)
    assert rec.lr_hw == (30, 40) and rec.source["simulate"]["size"] == [40, 30]


def test_bad_recordings(sim_frames, tmp_path):
    with pytest.raises(RecordingError, match="no such recording"):
        read_recording(tmp_path / "nothing")
    rgb, lr = sim_frames
    big = [np.ones((200, 200), np.float32)] * 2
    write_bag(tmp_path / "b", rgb[:2], big)
    with pytest.raises(RecordingError, match="larger than the colour"):
        read_recording(tmp_path / "b")


def test_cli(sim_frames, tiny_base, tmp_path, capsys):
    folder = _folder(tmp_path / "f", *sim_frames, n=5)
    out = tmp_path / "my_sensor"
    rc = cli.main([str(folder), "--out", str(out), "--base", str(tiny_base), "--budget", "30", "--max-iters", "2",
                   "--threads", "1", "--no-progress", "--min-gain", "-1", "--min-holdout-frames", "1",
                   "--offset", "5", "0"])
    assert rc == 0
    meta = json.loads(out.with_suffix(".json").read_text())["adaptation"]
    assert meta["iterations"] == 2 and meta["recording"]["kind"] == "folder (folder)"
    assert meta["profile"]["offset_px"] == [5.0, 0.0] and meta["profile"]["offset_source"].startswith("given")
    assert "wrote" in capsys.readouterr().out
    assert cli.main([str(tmp_path / "missing"), "--out", str(out)]) == 1
    assert "no such recording" in capsys.readouterr().err

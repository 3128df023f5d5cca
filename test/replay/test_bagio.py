"""rosbag2 sqlite3/mcap round trips through make_bag + BagReader, ROS 1 reading, bad bags."""
from __future__ import annotations

import numpy as np
import pytest

from dsr_diff_ros.data.folder import RGBDFolder
from dsr_diff_ros.replay.bagio import BagError, BagReader, BagWriter
from dsr_diff_ros.replay.codec import decode_depth, decode_rgb, depth_from_compressed, header_ns
from dsr_diff_ros.replay.make_bag import FOLDER_EPOCH_NS, MakeBagConfig, make_bag
from dsr_diff_ros import convert


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_round_trip(frames_dir, tmp_path, storage):
    out = tmp_path / "bag"
    s = make_bag(frames_dir, out, MakeBagConfig(storage=storage))
    assert s["frames"] == 4
    ds = RGBDFolder(frames_dir)
    with BagReader(out) as r:
        assert r.is_ros2
        assert {t: i.count for t, i in r.topics.items()} == {
            "/camera/camera/color/image_raw": 4, "/camera/camera/color/camera_info": 4,
            "/camera/camera/aligned_depth_to_color/image_raw": 4,
            "/camera/camera/aligned_depth_to_color/camera_info": 4}
        got = [(t, ts, r.deserialize(t, raw)) for t, ts, raw in
               r.messages(["/camera/camera/color/image_raw", "/camera/camera/aligned_depth_to_color/image_raw"])]
    rgbs = [m for t, _, m in got if "color" in t and "depth" not in t]
    deps = [m for t, _, m in got if "depth" in t]
    for i, (mr, md) in enumerate(zip(rgbs, deps)):
        s = ds.load(i)
        np.testing.assert_array_equal(decode_rgb(mr, "sensor_msgs/msg/Image"), s.rgb)
        np.testing.assert_allclose(decode_depth(md, "sensor_msgs/msg/Image"), s.depth, atol=1e-6)
        assert header_ns(mr) == FOLDER_EPOCH_NS + s.stamp_ns
    assert [ts for t, ts, _ in got if t == "/camera/camera/color/image_raw"] == [FOLDER_EPOCH_NS + ds.load(i).stamp_ns
                                                                         for i in range(4)]


def test_compressed_rgb_and_depth(frames_dir, tmp_path):
    out = tmp_path / "bag"
    make_bag(frames_dir, out, MakeBagConfig(storage="mcap", compressed_rgb=True, max_frames=1))
    with BagReader(out) as r:
        t = "/camera/camera/color/image_raw/compressed"
        assert r.topics[t].msgtype == "sensor_msgs/msg/CompressedImage"
        (_, _, raw), = list(r.messages([t]))
        rgb = decode_rgb(r.deserialize(t, raw), "sensor_msgs/msg/CompressedImage")
    ref = RGBDFolder(frames_dir).load(0).rgb
    assert rgb.shape == ref.shape and np.abs(rgb.astype(int) - ref).mean() < 3  # jpeg


def test_compressed_depth_formats():
    import struct

    import cv2
    mm = np.array([[0, 1000], [2500, 65535]], np.uint16)
    png = cv2.imencode(".png", mm)[1].reshape(-1)

    class M:
        pass
    m = M()
    m.format, m.data = "16UC1; compressedDepth png", np.concatenate([np.frombuffer(struct.pack("<iff", 0, 0, 0),
                                                                                   np.uint8), png])
    np.testing.assert_allclose(depth_from_compressed(m), mm * 0.001, rtol=1e-6)
    m.format, m.data = "16UC1; png compressed", png
    np.testing.assert_allclose(depth_from_compressed(m), mm * 0.001, rtol=1e-6)


def test_ros1_bag(tmp_path):
    from rosbags.rosbag1 import Writer as Writer1
    from rosbags.typesys import Stores, get_typestore

    ts = get_typestore(Stores.ROS1_NOETIC)
    Img, Hdr, Time = ts.types["sensor_msgs/msg/Image"], ts.types["std_msgs/msg/Header"], ts.types["builtin_interfaces/msg/Time"]
    path = tmp_path / "tum.bag"
    with Writer1(path) as w:
        c = w.add_connection("/camera/depth/image", "sensor_msgs/msg/Image", typestore=ts)
        d = np.full((3, 4), 1.5, np.float32)
        msg = Img(header=Hdr(seq=7, stamp=Time(sec=5, nanosec=9), frame_id="f"), height=3, width=4,
                  encoding="32FC1", is_bigendian=0, step=16, data=d.view(np.uint8).reshape(-1))
        w.write(c, 5_000_000_009, ts.serialize_ros1(msg, "sensor_msgs/msg/Image"))
    with BagReader(path) as r, BagWriter(tmp_path / "out") as w:
        assert not r.is_ros2 and r.topics["/camera/depth/image"].count == 1
        for t, stamp, raw in r.messages(["/camera/depth/image"]):
            m = r.deserialize(t, raw)
            np.testing.assert_array_equal(convert.depth_from_image(m), d)
            w.copy(r, t, raw, stamp)
    with BagReader(tmp_path / "out") as r:  # migrated to a ROS 2 bag (header without seq)
        (t, stamp, raw), = list(r.messages(["/camera/depth/image"]))
        m = r.deserialize(t, raw)
        assert stamp == 5_000_000_009 and header_ns(m) == 5_000_000_009
        np.testing.assert_array_equal(convert.depth_from_image(m), d)


def test_missing_and_not_a_bag(tmp_path):
    with pytest.raises(BagError, match="no such bag"):
        BagReader(tmp_path / "nope")
    (tmp_path / "dir").mkdir()
    with pytest.raises(BagError, match="metadata.yaml"):
        BagReader(tmp_path / "dir")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(BagError, match="not a bag"):
        BagReader(tmp_path / "x.txt")


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_truncated_bag_clear_error(frames_dir, tmp_path, storage):
    out = tmp_path / "bag"
    make_bag(frames_dir, out, MakeBagConfig(storage=storage))
    f = next(p for p in out.iterdir() if p.suffix in (".db3", ".mcap"))
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(BagError, match="corrupt or truncated"):
        with BagReader(out) as r:
            for _ in r.messages(list(r.topics)):
                pass


def test_writer_refuses_existing(tmp_path):
    with BagWriter(tmp_path / "b"):
        pass
    with pytest.raises(BagError, match="exists"):
        BagWriter(tmp_path / "b")
    BagWriter(tmp_path / "b", overwrite=True).close()

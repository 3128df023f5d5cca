"""Topic auto-detection on realsense-ros, TUM/openni and compressed names; clear errors."""
import pytest

from dsr_diff_ros.replay.topics import COMPRESSED, IMAGE, INFO, TopicError, detect_topics

REALSENSE = {
    "/camera/camera/color/image_raw": IMAGE, "/camera/camera/color/camera_info": INFO,
    "/camera/camera/color/image_raw/compressed": COMPRESSED,
    "/camera/camera/aligned_depth_to_color/image_raw": IMAGE,
    "/camera/camera/aligned_depth_to_color/camera_info": INFO,
    "/camera/camera/depth/image_rect_raw": IMAGE, "/camera/camera/depth/camera_info": INFO,
    "/camera/camera/infra1/image_rect_raw": IMAGE, "/tf_static": "tf2_msgs/msg/TFMessage",
}
TUM = {"/camera/rgb/image_color": IMAGE, "/camera/rgb/camera_info": INFO, "/camera/depth/image": IMAGE,
       "/camera/depth/camera_info": INFO, "/tf": "tf2_msgs/msg/TFMessage"}


def test_realsense():
    s = detect_topics(REALSENSE)
    assert (s.rgb, s.depth) == ("/camera/camera/color/image_raw", "/camera/camera/aligned_depth_to_color/image_raw")
    assert s.rgb_info == "/camera/camera/color/camera_info"
    assert s.depth_info == "/camera/camera/aligned_depth_to_color/camera_info"
    assert s.gt is None


def test_realsense_native_depth_when_the_pipeline_registers():
    s = detect_topics(REALSENSE, native_depth=True)
    assert s.depth == "/camera/camera/depth/image_rect_raw" and s.depth_info == "/camera/camera/depth/camera_info"
    assert s.rgb == "/camera/camera/color/image_raw"
    only_aligned = {k: v for k, v in REALSENSE.items() if "/depth/" not in k}   # no native depth: the aligned one
    assert detect_topics(only_aligned, native_depth=True).depth == "/camera/camera/aligned_depth_to_color/image_raw"


def test_realsense_without_alignment_uses_rect_raw():
    t = {k: v for k, v in REALSENSE.items() if "aligned" not in k}
    s = detect_topics(t)
    assert s.depth == "/camera/camera/depth/image_rect_raw" and s.depth_info == "/camera/camera/depth/camera_info"


def test_tum():
    s = detect_topics(TUM)
    assert (s.rgb, s.depth, s.rgb_info, s.depth_info) == (
        "/camera/rgb/image_color", "/camera/depth/image", "/camera/rgb/camera_info", "/camera/depth/camera_info")


def test_compressed_only():
    t = {"/camera/rgb/image_color/compressed": COMPRESSED, "/camera/rgb/camera_info": INFO,
         "/camera/depth/image_raw/compressedDepth": COMPRESSED}
    s = detect_topics(t)
    assert s.rgb.endswith("/compressed") and s.depth.endswith("/compressedDepth")
    assert s.rgb_info == "/camera/rgb/camera_info" and s.depth_info is None


def test_ground_truth_by_name_and_named_roles():
    t = dict(TUM, **{"/ground_truth/depth/image_raw": IMAGE, "/ground_truth/depth/camera_info": INFO})
    s = detect_topics(t)
    assert s.depth == "/camera/depth/image" and s.gt == "/ground_truth/depth/image_raw"
    assert s.gt_info == "/ground_truth/depth/camera_info"
    assert detect_topics(t, auto_gt=False).gt is None
    s = detect_topics(t, rgb="/camera/rgb/image_color", depth="/ground_truth/depth/image_raw", gt="/camera/depth/image")
    assert (s.depth, s.gt) == ("/ground_truth/depth/image_raw", "/camera/depth/image")


def test_errors_list_the_topics():
    with pytest.raises(TopicError, match=r"(?s)not in the bag.*/camera/rgb/image_color"):
        detect_topics(TUM, rgb="/nope")
    with pytest.raises(TopicError, match="has type sensor_msgs/msg/CameraInfo"):
        detect_topics(TUM, depth="/camera/depth/camera_info")
    with pytest.raises(TopicError, match=r"(?s)depth image.*--depth.*/camera/rgb/image_color"):
        detect_topics({"/camera/rgb/image_color": IMAGE})

"""The node between a camera driver (realsense-ros topic names) and the consumers users chain it with:
depth_image_proc point_cloud_xyzrgb and RTAB-Map. Each consumer is stood in for by a node with that
consumer's own topic names, message types, default (reliable) QoS and synchronisation, remapped as
docs/node.md and launch/upscale.launch.py (cloud:=depth_image_proc) do. What it receives must be what the
real consumer needs: a synchronisable triple with equal stamps and frame ids, depth 16UC1/32FC1 at the colour
image's size, camera info of that size."""
import time

import pytest
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from dsr_diff_ros import convert as cv
from dsr_diff_ros.sync import TimeSynchronizer, SimpleFilter

from .harness import FRAME_ID, Spinner, load_frames, stamp

FRAMES = load_frames(1)
CAM = "/camera/camera"
DRIVER = {"color": f"{CAM}/color/image_raw", "color_info": f"{CAM}/color/camera_info",
          "depth": f"{CAM}/aligned_depth_to_color/image_raw"}
NODE_REMAPS = {"rgb/image": DRIVER["color"], "rgb/camera_info": DRIVER["color_info"],
               "depth/image": DRIVER["depth"]}
CONSUMERS = {  # consumer: its (depth, colour, info) topics and the remaps that feed it
    "depth_image_proc point_cloud_xyzrgb": (
        ("depth_registered/image_rect", "rgb/image_rect_color", "rgb/camera_info"),
        {"depth_registered/image_rect": "/depth_upscaled/image", "rgb/image_rect_color": DRIVER["color"],
         "rgb/camera_info": DRIVER["color_info"]}),
    "rtabmap rgbd": (
        ("depth/image", "rgb/image", "rgb/camera_info"),
        {"depth/image": "/depth_upscaled/image", "rgb/image": DRIVER["color"],
         "rgb/camera_info": "/depth_upscaled/camera_info"}),
}


def ros_args(remaps):
    return ["--ros-args"] + [a for k, v in remaps.items() for a in ("-r", f"{k}:={v}")]


@pytest.fixture(scope="module")
def chain(upscaler):
    import rclpy

    from dsr_diff_ros.ros.node import UpscaleNode

    rclpy.init()
    node = UpscaleNode(upscaler=upscaler, cli_args=ros_args(NODE_REMAPS),
                       parameter_overrides=[Parameter("warmup", value=False)])
    driver = rclpy.create_node("camera")
    pubs = {k: driver.create_publisher(CameraInfo if k.endswith("info") else Image, t, 10)
            for k, t in DRIVER.items()}
    spin = Spinner(node, driver)
    yield node, driver, pubs, spin
    spin.stop()
    node.destroy_node()
    driver.destroy_node()
    rclpy.shutdown()


@pytest.mark.parametrize("consumer", list(CONSUMERS))
def test_consumer_receives_a_synchronised_triple(chain, consumer):
    import rclpy

    node, driver, pubs, spin = chain
    topics, remaps = CONSUMERS[consumer]
    c = rclpy.create_node("consumer", cli_args=ros_args(remaps))
    filters = [SimpleFilter() for _ in topics]
    got = []
    sync = TimeSynchronizer(filters, 10)             # exact: the strictest pairing either consumer offers
    sync.registerCallback(lambda *m: got.append(m))
    for f, t, typ in zip(filters, topics, (Image, Image, CameraInfo)):
        c.create_subscription(typ, t, f.signalMessage, QoSProfile(depth=10))   # system default: reliable
    spin.ex.add_node(c)
    try:
        end = time.monotonic() + 10
        while time.monotonic() < end and not node.inputs.active:   # lazy: the consumer wakes the node
            time.sleep(0.05)
        assert node.inputs.active, "the consumer's subscription did not wake the node"
        rgb, d, K = FRAMES[0]
        n = 0
        end = time.monotonic() + 60
        while not got and time.monotonic() < end:
            t = 3000.0 + n
            h = Header(stamp=stamp(t), frame_id=FRAME_ID)
            pubs["color_info"].publish(cv.intrinsics_to_info(K, h, CameraInfo))
            pubs["depth"].publish(cv.depth_to_msg(d, h, Image, "16UC1"))
            pubs["color"].publish(cv.image_to_msg(rgb, "rgb8", h, Image))
            n += 1
            time.sleep(0.5)
        assert got, (consumer, node.stats.snapshot())
        depth, colour, info = got[0]
        assert depth.encoding in ("32FC1", "16UC1")
        assert (depth.width, depth.height) == (colour.width, colour.height) == (info.width, info.height)
        assert depth.header == colour.header == info.header and depth.header.frame_id == FRAME_ID
        assert info.k[0] > 0 and info.p[0] > 0                    # a usable pinhole model
    finally:
        spin.ex.remove_node(c)
        c.destroy_node()

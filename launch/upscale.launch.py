"""Launch the dsr_diff_ros depth super-resolution node.

    ros2 launch dsr_diff_ros upscale.launch.py rgb_image:=/camera/color/image_raw \
        depth_image:=/camera/depth/image_rect_raw depth_info:=/camera/depth/camera_info device:=cuda use_shm:=true

Loads config/upscale.yaml; launch arguments override the device, steps, ensemble, weights, experts, register_depth,
lazy, use_sim_time and the four input topics. The default inputs are realsense-ros's colour and its *native* depth
(register_depth:=true reprojects it onto the colour camera with both camera infos and the tf extrinsic): a depth
already aligned to the colour image is at the colour resolution and leaves nothing to super-resolve (the node counts
such frames in pairs_low_ratio). For a depth that is registered at a lower resolution, pass register_depth:=false. use_shm:=true points Fast DDS at config/fastdds_shm.xml (shared-memory transport) through
FASTDDS_DEFAULT_PROFILES_FILE.

cloud:=node (default) publishes this node's XYZRGB cloud on depth_upscaled/points; cloud:=depth_image_proc
turns it off and starts depth_image_proc's point_cloud_xyzrgb on depth_upscaled/image + the colour image and
info instead (cloud on depth_registered/points); cloud:=none publishes no cloud.

QoS: put the standard qos_overrides./<resolved topic>.{subscription,publisher}.<policy> parameters in the
params_file (example in config/upscale.yaml, docs/node.md).
"""
import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, SetEnvironmentVariable
from launch.conditions import IfCondition
from launch.substitutions import EqualsSubstitution, LaunchConfiguration
from launch_ros.actions import ComposableNodeContainer, Node
from launch_ros.descriptions import ComposableNode
from launch_ros.parameter_descriptions import ParameterValue

try:
    from ament_index_python.packages import get_package_share_directory

    SHARE = get_package_share_directory("dsr_diff_ros")
except Exception:  # not installed (source checkout): files next to this launch file
    SHARE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

INPUTS = {  # launch argument: (node topic, default remap target; realsense-ros names)
    "rgb_image": ("rgb/image", "/camera/camera/color/image_raw"),
    "rgb_info": ("rgb/camera_info", "/camera/camera/color/camera_info"),
    "depth_image": ("depth/image", "/camera/camera/depth/image_rect_raw"),
    "depth_info": ("depth/camera_info", "/camera/camera/depth/camera_info"),
}


def generate_launch_description():
    cfg = LaunchConfiguration
    args = [
        DeclareLaunchArgument("namespace", default_value="", description="Node namespace"),
        DeclareLaunchArgument("params_file", default_value=os.path.join(SHARE, "config", "upscale.yaml"),
                              description="Parameter file"),
        DeclareLaunchArgument("device", default_value="auto", description="auto | cuda | cpu"),
        DeclareLaunchArgument("steps", default_value="1", description="Diffusion steps per frame"),
        DeclareLaunchArgument("ensemble", default_value="1", choices=["1", "2", "4", "8"],
                              description="Self-ensemble copies per frame (1: real time; 8: more accurate, 8x the cost)"),
        DeclareLaunchArgument("register_depth", default_value="true",
                              description="Reproject the native depth onto the colour camera (false: it is registered)"),
        DeclareLaunchArgument("weights", default_value="", description="Weights name/path; empty: default"),
        DeclareLaunchArgument("experts", default_value="auto", choices=["auto", "sensor"],
                              description="auto: holes, sensor or clean-input expert per frame; sensor: the sensor expert"),
        DeclareLaunchArgument("use_sim_time", default_value="false", description="Use /clock"),
        DeclareLaunchArgument("lazy", default_value="true",
                              description="Subscribe to the inputs only while an output has a subscriber"),
        DeclareLaunchArgument("cloud", default_value="node", choices=["node", "depth_image_proc", "none"],
                              description="Who makes the XYZRGB cloud: this node (depth_upscaled/points), "
                                          "depth_image_proc point_cloud_xyzrgb (depth_registered/points), none"),
        DeclareLaunchArgument("use_shm", default_value="false",
                              description="Fast DDS shared-memory transport (config/fastdds_shm.xml)"),
    ] + [DeclareLaunchArgument(name, default_value=default, description=f"Remap of {topic}")
         for name, (topic, default) in INPUTS.items()]
    shm = SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE", os.path.join(SHARE, "config", "fastdds_shm.xml"),
                                 condition=IfCondition(cfg("use_shm")))
    node = Node(
        package="dsr_diff_ros", executable="dsr-diff-node", name="depth_upscaler", namespace=cfg("namespace"),
        output="screen",
        parameters=[cfg("params_file"), {
            "device": cfg("device"),
            "steps": ParameterValue(cfg("steps"), value_type=int),
            "ensemble": ParameterValue(cfg("ensemble"), value_type=int),
            "register_depth": ParameterValue(cfg("register_depth"), value_type=bool),
            "weights": cfg("weights"),
            "experts": cfg("experts"),
            "use_sim_time": ParameterValue(cfg("use_sim_time"), value_type=bool),
            "lazy": ParameterValue(cfg("lazy"), value_type=bool),
            "publish_points": ParameterValue(EqualsSubstitution(cfg("cloud"), "node"), value_type=bool),
        }],
        remappings=[(topic, cfg(name)) for name, (topic, _) in INPUTS.items()],
    )
    # depth_image_proc's cloud from our depth (colour grid and stamp) and the camera's colour image and info;
    # recent depth_image_proc takes the info beside rgb/image_rect_color's resolved topic, older ones rgb/camera_info.
    cloud = ComposableNodeContainer(
        name="depth_upscaler_cloud_container", namespace=cfg("namespace"), package="rclcpp_components",
        executable="component_container", output="screen",
        condition=IfCondition(EqualsSubstitution(cfg("cloud"), "depth_image_proc")),
        composable_node_descriptions=[ComposableNode(
            package="depth_image_proc", plugin="depth_image_proc::PointCloudXyzrgbNode", name="point_cloud_xyzrgb",
            namespace=cfg("namespace"),
            parameters=[{"use_sim_time": ParameterValue(cfg("use_sim_time"), value_type=bool)}],
            remappings=[("depth_registered/image_rect", "depth_upscaled/image"),
                        ("rgb/image_rect_color", cfg("rgb_image")), ("rgb/camera_info", cfg("rgb_info")),
                        ("points", "depth_registered/points")])],
    )
    return LaunchDescription(args + [shm, node, cloud])

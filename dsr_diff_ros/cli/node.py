"""``dsr-diff-node``: run the depth super-resolution node (``--help``: parameters, topics, an example).

    dsr-diff-node --ros-args --params-file config/upscale.yaml -r rgb/image:=/camera/color/image_raw
"""
from __future__ import annotations

import sys


def main(argv=None) -> int:
    argv = sys.argv if argv is None else argv
    from ..ros.usage import usage, wants_help

    if wants_help(argv):
        try:
            print(usage(), flush=True)
        except BrokenPipeError:  # e.g. piped into head
            sys.stdout = None
        return 0
    from ..ros.threads import reserve_core_for_executor

    reserve_core_for_executor()  # before torch is imported
    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

    from ..ros.memory import tune_malloc
    from ..ros.node import UpscaleNode

    tune_malloc()  # large per-frame buffers: reuse heap memory instead of fresh mmaps
    rclpy.init(args=argv)
    node = None
    try:
        node = UpscaleNode()
        ex = SingleThreadedExecutor()
        ex.add_node(node)
        ex.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:
        if rclpy.ok():
            raise
        # Ctrl-C while the node was starting: rclpy's SIGINT handler shut the context down under the
        # constructor, whose next rcl call fails; that is a normal stop, not a crash
    finally:
        if node is not None:
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""pip/setuptools metadata for dsr_diff_ros.

The ROS 2 build (colcon, build_type ament_cmake) uses CMakeLists.txt, not this file.
This file makes the package pip-installable (`pip install -e .`, used by scripts/setup.sh)
and defines the console scripts.
"""
from setuptools import find_packages, setup

package_name = "dsr_diff_ros"

setup(
    name=package_name,
    version="0.1.0",
    description="Colour-guided depth super-resolution (DSR-Diff) for ROS 2",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=[package_name, package_name + ".*"]),
    package_data={package_name: ["weights/*.safetensors", "weights/*.json", "replay/sample/*.png",
                                 "replay/sample/*.yaml", "replay/sample/*.txt", "replay/sample/*.md"]},
    include_package_data=False,
    install_requires=[
        "numpy",
        "torch",
        "safetensors",
        "pyyaml",
        "tqdm",
    ],
    extras_require={
        "replay": ["rosbags", "mcap", "lz4"],
        "eval": ["matplotlib"],
        "test": ["pytest"],
    },
    zip_safe=False,
    entry_points={
        "console_scripts": [
            "dsr-diff-node = dsr_diff_ros.cli.node:main",
            "dsr-diff-train = dsr_diff_ros.cli.train:main",
            "dsr-diff-eval = dsr_diff_ros.cli.eval:main",
            "dsr-diff-replay = dsr_diff_ros.cli.replay:main",
            "dsr-diff-make-bag = dsr_diff_ros.cli.make_bag:main",
            "dsr-diff-demo = dsr_diff_ros.cli.demo:main",
            "dsr-diff-bench = dsr_diff_ros.cli.bench:main",
            "dsr-diff-adapt = dsr_diff_ros.cli.adapt:main",
        ],
    },
)

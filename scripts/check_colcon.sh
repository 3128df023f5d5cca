#!/usr/bin/env bash
# Check the ROS 2 workspace route: `colcon build` of this package against the ROS 2 wheels in .venv
# (no system ROS install needed). colcon lives in its own venv (build/colcon_venv, created on first
# use from PyPI), never in .venv. The workspace is a temporary dir whose src/dsr_diff_ros links to
# this checkout. Exit status 0 = built, installed and importable.
#   VENV=<repo>/.venv   venv with the ROS wheels (run scripts/setup.sh first)
#   KEEP_WS=1           keep the temporary workspace (its path is printed)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
CVENV="${COLCON_VENV:-$ROOT/build/colcon_venv}"
PYTHON="${PYTHON:-python3.11}"
[ -x "$VENV/bin/python" ] || { echo "[colcon] $VENV missing: run make setup first" >&2; exit 1; }

if [ ! -x "$CVENV/bin/colcon" ]; then
  echo "[colcon] installing colcon-common-extensions into $CVENV"
  "$PYTHON" -m venv "$CVENV"
  "$CVENV/bin/python" -m pip install -q colcon-common-extensions
fi

WS="$(mktemp -d "${TMPDIR:-/tmp}/dsr_colcon_ws.XXXXXX")"
[ "${KEEP_WS:-0}" = 1 ] || trap 'rm -rf "$WS"' EXIT
mkdir -p "$WS/src"
ln -s "$ROOT" "$WS/src/dsr_diff_ros"
cd "$WS"
echo "[colcon] colcon build in $WS"
env AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV" PATH="$VENV/bin:$PATH" \
  "$CVENV/bin/colcon" --log-base "$WS/log" build --base-paths src \
    --build-base "$WS/build" --install-base "$WS/install" \
    --cmake-args -DPython3_EXECUTABLE="$VENV/bin/python" -DDSR_DIFF_ROS_FIX_WHEEL_TARGETS=ON -DBUILD_TESTING=OFF
# Check the installed package from a neutral directory: Python code + generated msg + ament index.
cd /
env AMENT_PREFIX_PATH="$VENV" PATH="$VENV/bin:$PATH" bash -c '
  set -e
  source "'"$WS"'/install/setup.bash"
  python - <<PY
import os, dsr_diff_ros, dsr_diff_ros.msg as m
from ament_index_python.packages import get_package_prefix, get_package_share_directory
from rclpy.serialization import serialize_message, deserialize_message
ws = "'"$WS"'"
assert dsr_diff_ros.__file__.startswith(ws + "/install/"), dsr_diff_ros.__file__
assert m.__file__.startswith(ws + "/install/"), m.__file__
msg = m.UpscaleStats(scale=2.5, device="cpu")
assert deserialize_message(serialize_message(msg), m.UpscaleStats) == msg
prefix = get_package_prefix("dsr_diff_ros")
assert prefix == ws + "/install/dsr_diff_ros", prefix
share = get_package_share_directory("dsr_diff_ros")
assert os.path.isfile(os.path.join(share, "package.xml"))
assert os.access(os.path.join(prefix, "lib", "dsr_diff_ros", "upscale_node"), os.X_OK)
print("[colcon] OK: colcon-built dsr_diff_ros importable, UpscaleStats round-trips, ament index finds it")
PY
'

#!/usr/bin/env bash
# Set up dsr_diff_ros in a Python virtual environment (.venv) with the ROS 2 Kilted wheels:
#   1. check prerequisites, create/reuse .venv
#   2. pip install torch + requirements.txt                      (skipped when unchanged)
#   3. build msg/UpscaleStats.msg with cmake against the wheels   (skipped when unchanged)
#   4. pip install -e .                                           (skipped when unchanged)
#   5. install the ROS prefix files (ament index, share/, lib/dsr_diff_ros) into .venv
#   6. verify imports
# Idempotent: a second run takes a few seconds. Details: docs/packaging.md.
#
# Environment:
#   PYTHON=python3.11        interpreter used to create the venv
#   VENV=<repo>/.venv        venv location
#   DSR_TORCH=cpu|cuda       cpu (default): torch==2.13.0 as resolved by pip (CPU wheel on this machine's disk);
#                            cuda: torch from the PyTorch CUDA index (TORCH_INDEX_URL)
#   TORCH_SPEC=torch==2.13.0 requirement used for torch
#   TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128   index used with DSR_TORCH=cuda
#   JOBS=2                   parallel compile jobs for the msg build
#   DSR_SETUP_FORCE=1        ignore the stamps and redo every step
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
VENV="${VENV:-$ROOT/.venv}"
DSR_TORCH="${DSR_TORCH:-cpu}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
TORCH_INDEX_URL="${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cu128}"
JOBS="${JOBS:-2}"
FORCE="${DSR_SETUP_FORCE:-0}"
BUILD="$ROOT/build/venv_msgs"
STAGE="$ROOT/build/venv_stage"
STAMPS="$VENV/.dsr_setup"
PKG=dsr_diff_ros

t0=$(date +%s)
log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- 1. prerequisites
missing=()
command -v "$PYTHON" >/dev/null 2>&1 || missing+=("$PYTHON (Python 3.11 interpreter; set PYTHON=... to use another)")
command -v cmake >/dev/null 2>&1 || missing+=("cmake (>= 3.16)")
command -v make >/dev/null 2>&1 || missing+=("make")
{ command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; } || missing+=("cc/gcc (C compiler)")
{ command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1; } || missing+=("c++/g++ (C++ compiler)")
if ((${#missing[@]})); then
  printf '[setup] ERROR: missing prerequisites:\n' >&2
  printf '          - %s\n' "${missing[@]}" >&2
  printf '        On Debian/Ubuntu: sudo apt-get install python3.11 python3.11-venv python3.11-dev cmake make gcc g++\n' >&2
  exit 1
fi
pyver=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$pyver" = "3.11" ] || die "$PYTHON is Python $pyver; the ROS 2 Kilted wheels need Python 3.11 (set PYTHON=python3.11)"
"$PYTHON" -c 'import sysconfig, os, sys; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)' \
  || die "Python.h not found for $PYTHON (Debian/Ubuntu: sudo apt-get install python3.11-dev)"

hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }
stamp_ok() { [ "$FORCE" != 1 ] && [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
stamp_set() { mkdir -p "$STAMPS"; echo "$2" >"$STAMPS/$1"; }

# ---------------------------------------------------------------- venv
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q -U pip setuptools wheel
else
  log "reusing $VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip)
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"

# ---------------------------------------------------------------- 2. Python dependencies
req_hash=$( { cat requirements.txt; echo "$DSR_TORCH $TORCH_SPEC $TORCH_INDEX_URL"; } | sha256sum | cut -c1-16)
if stamp_ok pip "$req_hash"; then
  log "python dependencies up to date"
else
  log "installing torch ($TORCH_SPEC, $DSR_TORCH)"
  if [ "$DSR_TORCH" = cuda ]; then
    "${PIP[@]}" install "$TORCH_SPEC" --index-url "$TORCH_INDEX_URL"
  else
    # On this project's machines pip finds the CPU wheel of torch 2.13.0 on disk (find-links);
    # elsewhere PyPI's default build is used.
    "${PIP[@]}" install "$TORCH_SPEC"
  fi
  log "installing requirements.txt"
  "${PIP[@]}" install -r requirements.txt
  stamp_set pip "$req_hash"
fi
# opencv-python-headless and opencv-contrib-python-headless both own the cv2 package: keep only
# contrib, and reinstall it because uninstalling the other one deletes shared cv2 files.
# Checked on every run (another install may pull opencv-python-headless back in).
if [ -d "$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/opencv_python_headless.libs" ] \
   || ls "$VENV"/lib/python*/site-packages/opencv_python_headless-*.dist-info >/dev/null 2>&1; then
  log "removing opencv-python-headless (conflicts with opencv-contrib-python-headless)"
  "${PIP[@]}" uninstall -y opencv-python-headless
  "${PIP[@]}" install --force-reinstall --no-deps "$(grep -E '^opencv-contrib-python-headless' requirements.txt)"
fi

# ---------------------------------------------------------------- 3. ROS interfaces (msg/)
msg_hash=$( { cat msg/*.msg CMakeLists.txt package.xml; echo "$req_hash"; } | sha256sum | cut -c1-16)
if stamp_ok msg "$msg_hash" && [ -f "$PKG/msg/__init__.py" ] && [ -f "$PKG/${PKG}_s__rosidl_typesupport_c.so" ] \
   && [ -f "$VENV/lib/lib${PKG}__rosidl_typesupport_c.so" ]; then
  log "ROS interfaces up to date"
else
  log "building ROS interfaces (msg/*.msg) with cmake"
  rm -rf "$BUILD" "$STAGE"
  mkdir -p "$ROOT/build"
  export AMENT_PREFIX_PATH="$VENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
  export CMAKE_PREFIX_PATH="$VENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  cmake -S "$ROOT" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_TESTING=OFF \
    -DDSR_DIFF_ROS_INSTALL_PYTHON_PACKAGE=OFF \
    -DDSR_DIFF_ROS_FIX_WHEEL_TARGETS=ON \
    -DPython3_EXECUTABLE="$PY" \
    -DCMAKE_INSTALL_PREFIX="$STAGE" >"$ROOT/build/venv_msgs.configure.log" 2>&1 \
    || { tail -40 "$ROOT/build/venv_msgs.configure.log" >&2; die "cmake configure failed (log: build/venv_msgs.configure.log)"; }
  cmake --build "$BUILD" -j "$JOBS" >"$ROOT/build/venv_msgs.build.log" 2>&1 \
    || { tail -40 "$ROOT/build/venv_msgs.build.log" >&2; die "msg build failed (log: build/venv_msgs.build.log)"; }
  cmake --install "$BUILD" >/dev/null
  gen="$STAGE/lib/python$pyver/site-packages/$PKG"
  [ -f "$gen/msg/__init__.py" ] || die "generated Python message package missing in $gen"
  # Generated Python package -> source tree (gitignored), next to the editable-installed code.
  rm -rf "$PKG/msg" "$PKG"/*.so "$PKG"/_${PKG}_s.ep.*
  cp -r "$gen/msg" "$PKG/msg"
  cp "$gen"/*.so "$PKG/"
  # Typesupport libraries -> $VENV/lib (on LD_LIBRARY_PATH via the ros_wheels_bootstrapper .pth).
  cp -P "$STAGE"/lib/lib${PKG}__*.so "$VENV/lib/"
  # CMake config, interface definitions, headers, ament index entries -> $VENV.
  mkdir -p "$VENV/share" "$VENV/include"
  cp -r "$STAGE/share/." "$VENV/share/"
  cp -r "$STAGE/include/." "$VENV/include/"
  stamp_set msg "$msg_hash"
fi

# ---------------------------------------------------------------- 4. editable install
edit_hash=$( { cat setup.py setup.cfg; echo "$ROOT"; } | sha256sum | cut -c1-16)
if stamp_ok editable "$edit_hash" && "${PIP[@]}" show -q "$PKG" >/dev/null 2>&1; then
  log "editable install up to date"
else
  log "pip install -e ."
  "${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"
  stamp_set editable "$edit_hash"
fi

# ---------------------------------------------------------------- 5. ROS prefix (always; cheap)
# So that AMENT_PREFIX_PATH=$VENV lets `ros2 run/launch` and ament_index find the package.
mkdir -p "$VENV/share/ament_index/resource_index/packages" "$VENV/share/$PKG" "$VENV/lib/$PKG"
cp resource/$PKG "$VENV/share/ament_index/resource_index/packages/$PKG"
cp package.xml "$VENV/share/$PKG/package.xml"
for d in launch config; do
  rm -rf "$VENV/share/$PKG/$d"
  if [ -d "$d" ]; then cp -r "$d" "$VENV/share/$PKG/$d"; fi
done
for exe in upscale_node dsr-diff-node dsr-diff-train dsr-diff-eval dsr-diff-replay dsr-diff-make-bag dsr-diff-demo dsr-diff-bench dsr-diff-adapt; do
  # same wrapper as installed by CMake, with the venv interpreter in the shebang
  { echo "#!$PY"; tail -n +2 "scripts/$exe"; } >"$VENV/lib/$PKG/$exe"
  chmod +x "$VENV/lib/$PKG/$exe"
done

# ---------------------------------------------------------------- 6. verify
(cd / && "$PY" - <<'EOF'
import cv2, numpy, rclpy, torch  # noqa: F401
from dsr_diff_ros.msg import UpscaleStats
from rclpy.serialization import deserialize_message, serialize_message
m = UpscaleStats(scale=4.0, device="cpu")
assert deserialize_message(serialize_message(m), UpscaleStats) == m
assert hasattr(cv2, "ximgproc"), "cv2.ximgproc missing: opencv-contrib-python-headless is not the active cv2"
print("[setup] verified: torch %s (cuda=%s), numpy %s, cv2 %s, rclpy, dsr_diff_ros.msg.UpscaleStats"
      % (torch.__version__, torch.cuda.is_available(), numpy.__version__, cv2.__version__))
EOF
) || die "verification failed (to redo every step: DSR_SETUP_FORCE=1 make setup)"
log "done in $(( $(date +%s) - t0 ))s. Activate with: . $VENV/bin/activate"

"""Where the larger shared data sets live (not shipped with the package): the one lookup for tests, benchmarks
and CLI defaults.

Order: the ``DSR_SHARED_DATA`` environment variable when set (pointing it at an empty folder hides the data,
as CI does once), else ``<repository>/../shared/data`` (the layout of a development checkout). The bundled
real Kinect sample (``SAMPLE``) needs neither.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

ENV = "DSR_SHARED_DATA"
REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "dsr_diff_ros" / "replay" / "sample"  # 5 real Kinect v1 frames, 640x480 (MIT, slambook2)


def shared_root() -> Path:
    """The folder the shared data is looked up in (it may not exist)."""
    env = os.environ.get(ENV)
    return Path(env).expanduser() if env else REPO.parent / "shared" / "data"


def shared_path(*parts: str) -> Optional[Path]:
    """``shared_root()/parts`` when it exists, else None (e.g. ``shared_path("rgbd", "tum_kinect")``)."""
    p = shared_root().joinpath(*parts)
    return p if p.exists() else None


def missing_reason(*parts: str) -> str:
    """Why ``shared_path(*parts)`` is None, for skip messages and CLI errors."""
    return (f"shared data {'/'.join(parts) or '.'} not found under {shared_root()} "
            f"(set {ENV} to the folder holding rgbd/, nyu_v2_samples/ ...)")

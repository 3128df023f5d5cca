"""What the bench scripts share: the check for the training data, the Kinect report's sequences and RMSE (cm) on
valid pixels."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def tune_root(data: str, script: str) -> Path | None:
    """``data`` as a Path when it holds rgbdd_train/ and middlebury_train/ (the tune split); else None, with the
    reason on stderr (the script then exits 2)."""
    root = Path(data)
    if (root / "rgbdd_train").exists() and (root / "middlebury_train").exists():
        return root
    print(f"{script}: needs rgbdd_train/ and middlebury_train/ under {root}", file=sys.stderr)
    return None


def kinect_report_sequences(rgbd: Path) -> list:
    """The real sensor sequences of ``rgbd/`` (every one but the rendered ``synthetic_*``): the Kinect report's
    frames, as [(sequence name, RGBDFolder)]."""
    from dsr_diff_ros.evaluation.datasets import discover_sequences

    seqs, _ = discover_sequences(rgbd)
    return [s for s in seqs if "synthetic" not in s[0]]


def rmse_cm(pred: np.ndarray, gt: np.ndarray) -> float:
    """RMSE in cm over the pixels where ``gt`` (metres, 0 = no measurement) is valid."""
    v = gt > 0
    return float(np.sqrt(((pred - gt)[v] ** 2).mean()) * 100)

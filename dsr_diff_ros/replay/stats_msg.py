"""The per-frame stats message of the output bag: ``dsr_diff_ros/msg/UpscaleStats`` registered in the rosbags
typestore from ``msg/UpscaleStats.msg`` when that file can be found, otherwise JSON in ``std_msgs/msg/String``."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

STATS_TYPE = "dsr_diff_ros/msg/UpscaleStats"
STRING_TYPE = "std_msgs/msg/String"


def find_stats_msg() -> Optional[Path]:
    """Path of UpscaleStats.msg: source checkout (repo/msg), ament share dirs, or the package folder."""
    here = Path(__file__).resolve()
    cands = [here.parents[2] / "msg" / "UpscaleStats.msg", here.parents[1] / "msg" / "UpscaleStats.msg"]
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        if prefix:
            cands.append(Path(prefix) / "share" / "dsr_diff_ros" / "msg" / "UpscaleStats.msg")
    return next((p for p in cands if p.is_file()), None)


def register_stats_type(typestore) -> str:
    """Register UpscaleStats in ``typestore`` if possible; return the msgtype stats will be written as."""
    if STATS_TYPE in typestore.fielddefs:
        return STATS_TYPE
    path = find_stats_msg()
    if path is None:
        return STRING_TYPE
    try:
        from rosbags.typesys import get_types_from_msg

        typestore.register(get_types_from_msg(path.read_text(), STATS_TYPE))
        return STATS_TYPE
    except Exception:  # malformed .msg: fall back rather than fail the replay
        return STRING_TYPE


def _default(typename: str):
    if typename in ("string",):
        return ""
    if typename.startswith(("float",)):
        return 0.0
    if typename == "bool":
        return False
    return 0


def make_stats_msg(typestore, msgtype: str, stats: dict, header):
    """Build the stats message from a dict (keys = field names; missing fields get 0 / "")."""
    if msgtype == STRING_TYPE:
        return typestore.types[STRING_TYPE](data=json.dumps(stats, default=float, sort_keys=True))
    fields = typestore.fielddefs[msgtype][1]
    kw = {}
    for name, desc in fields:
        if name == "header":
            kw[name] = header
            continue
        base = desc[1][0] if isinstance(desc[1], tuple) else desc[1]
        typename = base if isinstance(base, str) else "float64"
        val = stats.get(name, _default(typename))
        if typename == "string":
            val = str(val)
        elif typename.startswith("float"):
            val = float(val) if val is not None and val == val else 0.0
        elif typename == "bool":
            val = bool(val)
        else:
            val = int(max(0, val)) if typename.startswith("uint") else int(val)
        kw[name] = val
    return typestore.types[msgtype](**kw)

"""Find the RGB / depth / camera_info (/ ground-truth depth) topics of a bag from types and names.

Recognises realsense-ros (``/camera/camera/color/image_raw``, ``/camera/camera/aligned_depth_to_color/image_raw``,
``/camera/camera/depth/image_rect_raw``), openni/TUM (``/camera/rgb/image_color``, ``/camera/depth/image``,
``/camera/depth_registered/image_raw``), the node's own names (``rgb/image``, ``depth/image``) and compressed
transports (``.../compressed``, ``.../compressedDepth``). Any role can be forced by name.
"""
from __future__ import annotations

from dataclasses import dataclass, asdict
from typing import Mapping, Optional

IMAGE = "sensor_msgs/msg/Image"
COMPRESSED = "sensor_msgs/msg/CompressedImage"
INFO = "sensor_msgs/msg/CameraInfo"
IMAGE_TYPES = (IMAGE, COMPRESSED)

GT_WORDS = ("ground_truth", "groundtruth", "/gt/", "/gt_", "_gt/", "depth_gt", "gt_depth", "depth_hr")
NOT_INPUT_WORDS = ("upscaled", "colormap", "confidence", "infra", "/ir/", "points", "disparity")


class TopicError(ValueError):
    """Topics that cannot be found (or have the wrong type); the message lists the bag's topics."""


@dataclass
class TopicSelection:
    """Chosen topic for each role (None: absent)."""

    rgb: str
    depth: str
    rgb_info: Optional[str] = None
    depth_info: Optional[str] = None
    gt: Optional[str] = None
    gt_info: Optional[str] = None

    def to_dict(self) -> dict:
        return asdict(self)

    def inputs(self) -> list[str]:
        """All selected topics (those to read)."""
        return [t for t in (self.rgb, self.depth, self.rgb_info, self.depth_info, self.gt, self.gt_info) if t]


def is_gt_name(name: str) -> bool:
    n = name.lower() + "/"
    return any(w in n for w in GT_WORDS)


def _base(name: str) -> str:
    """Image topic without its image_transport suffix."""
    for suf in ("/compressedDepth", "/compressed"):
        if name.endswith(suf):
            return name[: -len(suf)]
    return name


def _rgb_score(name: str) -> Optional[int]:
    n = name.lower()
    if "depth" in n or is_gt_name(n) or any(w in n for w in NOT_INPUT_WORDS):
        return None
    if not any(w in n for w in ("color", "colour", "rgb")):
        return None
    s = 0
    s += 3 if any(w in n for w in ("image_raw", "image_color", "image_rect_color", "rgb/image")) else 0
    s += 1 if "/color/" in n else 0
    s -= 2 if n.endswith(("/compressed", "/compresseddepth", "/theora")) else 0
    return s


def _depth_score(name: str, native: bool = False) -> Optional[int]:
    """Registered depth first (it needs no registration), or with ``native`` the sensor's own depth first (the
    pipeline registers it; a depth aligned to the colour camera is at the colour resolution: nothing to upscale)."""
    n = name.lower()
    if "depth" not in n or is_gt_name(n) or any(w in n for w in NOT_INPUT_WORDS):
        return None
    s = 0
    registered = "aligned_depth_to_color" in n or "depth_registered" in n
    s += (-4 if native else 4) if registered else 0
    s += 2 if "image_rect_raw" in n else 0
    s += 1 if any(w in n for w in ("image_raw", "/image")) else 0
    s -= 2 if n.endswith(("/compressed", "/compresseddepth")) else 0
    return s


def _best(topics: Mapping[str, str], types, score) -> Optional[str]:
    scored = [(score(t), -len(t), t) for t, ty in topics.items() if ty in types]
    scored = [x for x in scored if x[0] is not None]
    return max(scored)[2] if scored else None


def info_for(image_topic: str, topics: Mapping[str, str], hint: Optional[str] = None) -> Optional[str]:
    """camera_info topic next to ``image_topic`` (``<parent>/camera_info``), else one whose name contains ``hint``."""
    parent = _base(image_topic).rsplit("/", 1)[0]
    sib = f"{parent}/camera_info"
    if topics.get(sib) == INFO:
        return sib
    if hint:
        cands = sorted(t for t, ty in topics.items() if ty == INFO and hint in t.lower() and not is_gt_name(t))
        if cands:
            return cands[0]
    return None


def listing(topics: Mapping[str, str]) -> str:
    return "\n".join(f"  {t}  [{ty}]" for t, ty in sorted(topics.items())) or "  (no topics)"


def _check(role: str, name: str, topics: Mapping[str, str], types) -> None:
    if name not in topics:
        raise TopicError(f"{role} topic {name!r} is not in the bag. The bag has:\n{listing(topics)}")
    if topics[name] not in types:
        raise TopicError(f"{role} topic {name!r} has type {topics[name]}, expected {' or '.join(types)}. "
                         f"The bag has:\n{listing(topics)}")


def detect_topics(topics: Mapping[str, str], rgb: Optional[str] = None, depth: Optional[str] = None,
                  rgb_info: Optional[str] = None, depth_info: Optional[str] = None, gt: Optional[str] = None,
                  gt_info: Optional[str] = None, auto_gt: bool = True, native_depth: bool = False) -> TopicSelection:
    """Pick the topics from ``topics`` ({name: msgtype}); named roles are checked, the others auto-detected.
    ``native_depth`` (the pipeline registers depth itself): prefer the sensor's own depth to one already aligned to
    the colour camera.

    Raises ``TopicError`` (listing the bag's topics) when RGB or depth cannot be found or a named topic is
    missing. Camera info topics may come back None (the caller decides whether that is fatal).
    """
    for role, name, types in (("RGB", rgb, IMAGE_TYPES), ("depth", depth, IMAGE_TYPES), ("ground-truth", gt, IMAGE_TYPES),
                              ("RGB camera_info", rgb_info, (INFO,)), ("depth camera_info", depth_info, (INFO,)),
                              ("ground-truth camera_info", gt_info, (INFO,))):
        if name:
            _check(role, name, topics, types)
    rgb = rgb or _best(topics, IMAGE_TYPES, _rgb_score)
    depth = depth or _best(topics, IMAGE_TYPES, lambda t: _depth_score(t, native_depth))
    missing = [r for r, v in (("RGB image", rgb), ("depth image", depth)) if not v]
    if missing:
        raise TopicError(f"could not find the {' and '.join(missing)} topic in the bag; name it with "
                         f"{' / '.join('--' + m.split()[0].lower() for m in missing)}. The bag has:\n{listing(topics)}")
    if gt is None and auto_gt:
        gts = sorted(t for t, ty in topics.items() if ty in IMAGE_TYPES and is_gt_name(t) and t != depth)
        gt = gts[0] if gts else None
    return TopicSelection(
        rgb=rgb, depth=depth,
        rgb_info=rgb_info or info_for(rgb, topics, "color") or info_for(rgb, topics, "rgb"),
        depth_info=depth_info or info_for(depth, topics),
        gt=gt, gt_info=gt_info or (info_for(gt, topics) if gt else None))

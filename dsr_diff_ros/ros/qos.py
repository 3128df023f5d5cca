"""QoS profiles from parameters and publisher/subscriber compatibility checks (rclpy)."""
from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

RELIABILITY = {"reliable": ReliabilityPolicy.RELIABLE, "best_effort": ReliabilityPolicy.BEST_EFFORT}

# Defaults: best-effort subscribers accept both reliable and best-effort publishers (drivers, bags);
# reliable publishers are accepted by both kinds of subscribers (RViz, SLAM, recorders).
DEFAULTS = {
    "rgb": ("best_effort", 5), "depth": ("best_effort", 5), "camera_info": ("best_effort", 10),
    "image_out": ("reliable", 5), "points_out": ("reliable", 2), "stats": ("reliable", 10),
}


def profile(reliability: str, depth: int) -> QoSProfile:
    """KEEP_LAST(depth) volatile profile with ``reliability`` in {'reliable', 'best_effort'}."""
    if reliability not in RELIABILITY:
        raise ValueError(f"reliability must be one of {sorted(RELIABILITY)}, got '{reliability}'")
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=int(depth), reliability=RELIABILITY[reliability],
                      durability=DurabilityPolicy.VOLATILE)


def incompatibility(sub: QoSProfile, pub_qos) -> str | None:
    """Reason why a publisher with ``pub_qos`` cannot reach subscriber ``sub`` (None if compatible)."""
    if sub.reliability == ReliabilityPolicy.RELIABLE and pub_qos.reliability == ReliabilityPolicy.BEST_EFFORT:
        return "publisher is best_effort but this subscriber requests reliable"
    if (sub.durability == DurabilityPolicy.TRANSIENT_LOCAL
            and pub_qos.durability == DurabilityPolicy.VOLATILE):
        return "publisher is volatile but this subscriber requests transient_local"
    return None


def check_inputs(node, topics: dict, received: dict) -> list[str]:
    """Warnings for input topics: no publisher, or publishers whose QoS cannot match ours, or publishers
    that exist but delivered nothing (likely QoS/transport mismatch).

    topics: {topic_name: our subscriber QoSProfile}; received: {topic_name: messages received so far}.
    """
    out = []
    for topic, qos in topics.items():
        resolved = node.resolve_topic_name(topic)
        pubs = node.get_publishers_info_by_topic(resolved)
        if not pubs:
            out.append(f"no publisher on {resolved} yet")
            continue
        reasons = {r for p in pubs if (r := incompatibility(qos, p.qos_profile))}
        if reasons:
            out.append(f"{resolved}: QoS mismatch ({'; '.join(sorted(reasons))})")
        elif received.get(topic, 0) == 0:
            out.append(f"{resolved}: {len(pubs)} publisher(s) but nothing received (QoS or type mismatch?)")
    return out

"""QoS of the node's endpoints: defaults, the standard ``qos_overrides.<topic>.<entity>.<policy>`` parameters
(rclpy QoSOverridingOptions), and publisher/subscriber compatibility checks."""
from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.qos_overriding_options import QoSOverridingOptions

RELIABILITY = {"reliable": ReliabilityPolicy.RELIABLE, "best_effort": ReliabilityPolicy.BEST_EFFORT}

# Inputs: SensorData (best_effort, keep_last 5; camera infos 10): a best-effort subscriber accepts reliable
# (bags, most drivers) and best-effort publishers. Outputs: reliable, accepted by reliable subscribers
# (SLAM, recorders, depth_image_proc) and best-effort ones (RViz).
DEFAULTS = {
    "rgb": ("best_effort", 5), "depth": ("best_effort", 5), "camera_info": ("best_effort", 10),
    "image_out": ("reliable", 5), "points_out": ("reliable", 2), "stats": ("reliable", 10),
}


def profile(reliability: str, depth: int) -> QoSProfile:
    """A fresh KEEP_LAST(depth) volatile profile with ``reliability`` in {'reliable', 'best_effort'}
    (fresh: rclpy writes the overrides into the profile it is given)."""
    if reliability not in RELIABILITY:
        raise ValueError(f"reliability must be one of {sorted(RELIABILITY)}, got '{reliability}'")
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=int(depth), reliability=RELIABILITY[reliability],
                      durability=DurabilityPolicy.VOLATILE)


def default(stream: str) -> QoSProfile:
    return profile(*DEFAULTS[stream])


def overrides() -> QoSOverridingOptions:
    """history, depth and reliability overridable per endpoint, as depth_image_proc's publishers allow."""
    return QoSOverridingOptions.with_default_policies()


def override_names(resolved_topic: str, entity: str) -> list[str]:
    """The parameter names rclpy declares for ``entity`` ('subscription' or 'publisher') on a topic."""
    return [f"qos_overrides.{resolved_topic}.{entity}.{p}" for p in ("history", "depth", "reliability")]


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

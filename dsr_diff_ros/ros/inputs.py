"""The node's input subscriptions, created and destroyed together (lazy subscription, as depth_image_proc
subscribes only while an output has subscribers). QoS: defaults from ``qos.DEFAULTS``, overridable with the
standard ``qos_overrides./<topic>.subscription.<policy>`` parameters (declared on the first subscribe)."""
from __future__ import annotations

from . import qos


class Inputs:
    """``specs``: [(key, message type, topic, qos stream)]; every message goes to ``on_message(key, msg)``."""

    def __init__(self, node, specs, on_message):
        self.node, self.specs, self.on_message = node, list(specs), on_message
        self.subs = {}

    @property
    def active(self) -> bool:
        return bool(self.subs)

    def topic(self, key: str) -> str:
        return next(t for k, _, t, _ in self.specs if k == key)

    def subscribe(self) -> None:
        for key, typ, topic, stream in self.specs:
            if key not in self.subs:
                self.subs[key] = self.node.create_subscription(
                    typ, topic, lambda m, k=key: self.on_message(k, m), qos.default(stream),
                    qos_overriding_options=qos.overrides())

    def unsubscribe(self) -> None:
        for sub in self.subs.values():
            self.node.destroy_subscription(sub)
        self.subs.clear()

    def profiles(self) -> dict:
        """{topic: the subscription's QoS after overrides} of the live subscriptions."""
        return {self.topic(k): s.qos_profile for k, s in self.subs.items()}

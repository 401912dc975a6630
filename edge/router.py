"""Which configured sensor a local-broker message belongs to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edge.config import SensorConfig
from streetwatch.kinds import Ecosystem
from streetwatch.topics import DeviceTopic, Subject, TopicError, device_filter, parse_device_topic


@dataclass(frozen=True, slots=True)
class Route:
    sensor: SensorConfig
    subject: Subject


class Router:
    """Maps topics to sensors; built once from the config (one device feeds one sensor)."""

    def __init__(self, sensors: Sequence[SensorConfig]) -> None:
        self._by_device: dict[tuple[Ecosystem, str, str], SensorConfig] = {
            s.source.key: s for s in sensors
        }
        self._bases = sorted({(s.source.ecosystem, s.source.base) for s in sensors})
        self._json_topics = {
            s.source.device: s for s in sensors if s.source.ecosystem is Ecosystem.JSON
        }

    def subscriptions(self) -> list[str]:
        """Local-broker filters covering every configured device."""
        filters = {
            device_filter(eco, base) for eco, base in self._bases if eco is not Ecosystem.JSON
        }
        return sorted(filters | set(self._json_topics))

    def route(self, topic: str) -> Route | None:
        """The sensor fed by ``topic``, or None when no configured device publishes there."""
        sensor = self._json_topics.get(topic)
        if sensor is not None:
            return Route(sensor, Subject.STATE)
        for eco, base in self._bases:
            if eco is Ecosystem.JSON:
                continue
            try:
                dt: DeviceTopic = parse_device_topic(eco, topic, base)
            except TopicError:
                continue
            device = dt.device.lower() if eco is Ecosystem.CHIRPSTACK else dt.device
            found = self._by_device.get((eco, base, device))
            if found is not None:
                return Route(found, dt.subject)
        return None

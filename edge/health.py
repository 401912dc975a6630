"""Gateway health: the periodic message to the hub and the optional Prometheus endpoint.

The Prometheus collector reads the agent's live state at scrape time from a registry owned by
the agent (no module-level metrics), so two agents in one process never mix their numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """What the agent knows about itself right now."""

    gateway: str
    uplink_connected: bool
    reconnects: int
    buffer_depth: dict[str, int]
    buffer_bytes: int
    pressure: str
    counters: list[tuple[str, str, int]]
    last_seen_ms: dict[str, int]
    overdue: list[str]


class AgentCollector(Collector):
    def __init__(self, snapshot: Callable[[], HealthSnapshot]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self._snapshot()
        up = GaugeMetricFamily("streetwatch_edge_uplink_connected", "1 when the hub is reachable")
        up.add_metric([], 1.0 if s.uplink_connected else 0.0)
        yield up
        rc = CounterMetricFamily("streetwatch_edge_uplink_reconnects", "Uplink reconnects")
        rc.add_metric([], s.reconnects)
        yield rc
        depth = GaugeMetricFamily(
            "streetwatch_edge_buffer_depth", "Records in the outbox", labels=["lane"]
        )
        for lane, n in sorted(s.buffer_depth.items()):
            depth.add_metric([lane], n)
        yield depth
        size = GaugeMetricFamily("streetwatch_edge_buffer_bytes", "Payload bytes in the outbox")
        size.add_metric([], s.buffer_bytes)
        yield size
        events = CounterMetricFamily(
            "streetwatch_edge_events",
            "Counted outcomes by what and reason",
            labels=["what", "reason"],
        )
        for what, reason, n in s.counters:
            events.add_metric([what, reason], n)
        yield events
        seen = GaugeMetricFamily(
            "streetwatch_edge_sensor_last_seen_seconds",
            "Unix time of each sensor's last sample",
            labels=["sensor"],
        )
        for sensor, ms in sorted(s.last_seen_ms.items()):
            seen.add_metric([sensor], ms / 1000)
        yield seen
        overdue = GaugeMetricFamily(
            "streetwatch_edge_sensors_overdue", "Sensors past their interval"
        )
        overdue.add_metric([], len(s.overdue))
        yield overdue

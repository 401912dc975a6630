"""The hub's Prometheus metrics, read from its live state at scrape time.

Names (all prefixed ``streetwatch_hub_``): messages in by channel, rejected by reason,
duplicates, sequence gaps, resend requests, confirms, write latency, spool depth, pending
points, lag behind the gateways, gateways online/offline, overdue sensors, area outages.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from hub.service import Hub

P = "streetwatch_hub_"


def _counter(name: str, doc: str, value: float, labels: dict[str, str] | None = None) -> Metric:
    family = CounterMetricFamily(P + name, doc, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), value)
    return family


def _gauge(name: str, doc: str, value: float) -> Metric:
    family = GaugeMetricFamily(P + name, doc)
    family.add_metric([], value)
    return family


def _by_label(name: str, doc: str, label: str, values: dict[str, int]) -> Metric:
    family = CounterMetricFamily(P + name, doc, labels=[label])
    for key, n in sorted(values.items()):
        family.add_metric([key], n)
    return family


class HubCollector(Collector):
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        c = hub.counters
        yield _by_label(
            "messages", "Messages admitted, by channel.", "channel", c.by_reason("received")
        )
        yield _by_label(
            "rejected",
            "Messages refused and dead-lettered, by reason.",
            "reason",
            c.by_reason("rejected"),
        )
        yield _by_label(
            "duplicates",
            "Messages received again and dropped, by channel.",
            "channel",
            c.by_reason("duplicate"),
        )
        yield _by_label(
            "deferred",
            "Messages left with the gateway for now, by reason.",
            "reason",
            c.by_reason("deferred"),
        )
        yield _by_label(
            "hub_events", "Hub events raised, by type.", "type", c.by_reason("hub_event")
        )
        seq = hub.sequence.stats()
        yield _counter("gaps_opened", "Sequence gaps seen.", seq.gaps_opened)
        yield _counter(
            "gaps_filled", "Sequence gaps filled by a late or re-sent message.", seq.gaps_filled
        )
        yield _counter("gaps_lost", "Sequence numbers the gateways reported lost.", seq.gaps_lost)
        yield _gauge("gap_seqs_open", "Sequence numbers missing right now.", seq.open_gap_seqs)
        conf = hub.confirmer.stats()
        yield _counter("confirms_sent", "Confirm commands sent to gateways.", conf.confirms_sent)
        yield _counter("resends_sent", "Resend requests sent to gateways.", conf.resends_sent)
        yield _counter(
            "command_failures",
            "Commands that could not be published (retried).",
            conf.publish_failures,
        )
        w = hub.writer.stats()
        yield _counter(
            "points_written", "Points written straight to the database.", w.written_points
        )
        yield _counter("points_spooled", "Points that went to the spool.", w.spooled_points)
        yield _counter("points_drained", "Points written from the spool.", w.drained_points)
        yield _counter("points_rejected", "Points the database refused.", w.rejected_points)
        yield _counter(
            "write_failures", "Database writes that failed or timed out.", w.write_failures
        )
        yield _gauge("pending_points", "Points in memory, not yet durable.", w.pending_points)
        yield _gauge("spool_points", "Points waiting in the spool.", w.spool_points)
        yield _gauge("spool_bytes", "Bytes of the spool.", w.spool_bytes)
        yield _gauge(
            "database_up", "1 if the last database write succeeded.", 1 if w.backend_up else 0
        )
        latency = GaugeMetricFamily(
            P + "write_latency_seconds", "Recent database write latency.", labels=["quantile"]
        )
        if w.write_latency.p50_s is not None and w.write_latency.p99_s is not None:
            latency.add_metric(["0.5"], w.write_latency.p50_s)
            latency.add_metric(["0.99"], w.write_latency.p99_s)
        yield latency
        yield _gauge(
            "lag_seconds", "Age of the newest telemetry batch when admitted.", hub.intake.lag_s
        )
        yield _gauge(
            "mqtt_backlog", "Messages received from the broker, not yet handled.", hub.link.backlog
        )
        yield _gauge(
            "mqtt_connected",
            "1 while connected to the broker.",
            1 if hub.link.connected.is_set() else 0,
        )
        yield _counter("mqtt_reconnects", "Broker reconnections.", hub.link.reconnects)
        p = hub.presence.snapshot()
        yield _gauge("gateways_online", "Gateways online.", len(p.gateways_online))
        yield _gauge("gateways_offline", "Gateways offline.", len(p.gateways_offline))
        yield _gauge("sensors_overdue", "Sensors overdue.", len(p.sensors_overdue))
        yield _gauge("areas_out", "Communities or streets in an area outage.", len(p.areas_out))
        yield _gauge("event_queue", "Events waiting for the slowest subscriber.", hub.events.depth)

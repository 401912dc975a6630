"""The stored schema: wire messages → points, laid out for Grafana (docs/storage.md).

One measurement per sensor kind for raw readings (``water_level``) and one for window summaries
(``water_level_window``), plus ``anomaly_event``, ``gateway_health``, ``gateway_state``,
``sensor_info`` (what each birth announced), ``hub_event``, ``incident``, ``street_status``
(each street's current picture) and ``page`` (each page the escalator sent). Where a thing is
(district, street, community, gateway, sensor, building, risk_point) is always a tag, so every
panel can filter and group by it; values are fields. Severities are level ranks (``Level.rank``:
0 none, 1 blue ... 4 red), so a map can colour by a number.

Field types never change for a field name (InfluxDB refuses a type conflict): metrics are
floats, flags are bools, counts are ints, whatever the message carried (a wire ``12`` for a
float metric is stored as ``12.0``).

Idempotence: a point is keyed by measurement, tags and time, so a message received twice (a
replay, a resend) is stored once. In InfluxDB that is how points work; the SQLite store upserts
on the same key; VictoriaMetrics needs ``-dedup.minScrapeInterval=1ms`` (docs/storage.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from hub.events import HubEvent
from hub.incidents.model import Incident
from hub.notify.escalation import PageRecord
from hub.storage.base import FieldValue, Point
from streetwatch.kinds import KINDS, KindName
from streetwatch.levels import WARNING_LEVELS, Level
from streetwatch.location import Area, Coordinates, Placement
from streetwatch.messages import (
    AnomalyEvent,
    EventState,
    GatewayHealth,
    GatewayState,
    Reading,
    SensorInfo,
    TelemetryBatch,
    WindowSummary,
)

__all__ = [
    "MEASUREMENTS",
    "Measurement",
    "Origin",
    "StreetPicture",
    "event_points",
    "health_points",
    "hub_event_points",
    "incident_points",
    "mean_position",
    "page_points",
    "state_points",
    "street_status_points",
    "telemetry_points",
    "window_measurement",
]

Tags = tuple[tuple[str, str], ...]
_NO_PLACEMENT = Placement()
_AREA_TAGS = ("district", "street", "community", "gateway")
_SENSOR_TAGS = (*_AREA_TAGS, "sensor", "building", "risk_point")


def window_measurement(kind: str) -> str:
    """Where the window summaries of ``kind`` go."""
    return f"{kind}_window"


@dataclass(frozen=True, slots=True)
class Measurement:
    name: str
    tags: tuple[str, ...]  # every tag key it may have; optional ones are left out when unset
    description: str


def _table() -> Mapping[str, Measurement]:
    rows = [
        *(
            Measurement(k.value, (*_SENSOR_TAGS, "quality"), f"raw {k.value} readings")
            for k in KindName
        ),
        *(
            Measurement(window_measurement(k), _SENSOR_TAGS, f"{k.value} window summaries")
            for k in KindName
        ),
        Measurement(
            "anomaly_event",
            (*_SENSOR_TAGS, "kind", "metric", "type", "level", "state"),
            "anomalies raised and cleared by gateway detectors",
        ),
        Measurement("gateway_health", _AREA_TAGS, "what each gateway reports about itself"),
        Measurement("gateway_state", _AREA_TAGS, "gateway births (online) and deaths (offline)"),
        Measurement(
            "sensor_info", (*_SENSOR_TAGS, "kind"), "each sensor a gateway announced at its birth"
        ),
        Measurement(
            "hub_event",
            ("type", "level", "district", "street", "community", "gateway", "sensor", "cause"),
            "presence changes and refusals noticed by the hub",
        ),
        Measurement(
            "incident",
            ("district", "street", "community", "hazard", "level", "state", "scope"),
            "every change of an incident (opened, level, acknowledged, resolved, closed)",
        ),
        Measurement(
            "street_status",
            ("district", "street"),
            "each street's current picture: worst open incident, counts, gateways, outage",
        ),
        Measurement(
            "page",
            ("district", "street", "hazard", "level", "action", "channel"),
            "every page round and delivery the escalator wrote to the audit trail",
        ),
    ]
    return MappingProxyType({m.name: m for m in rows})


MEASUREMENTS: Mapping[str, Measurement] = _table()
"""Every measurement the hub writes, by name (for docs/storage.md, dashboards and queries)."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a gateway's messages come from, as the hub knows it (from the gateway's birth)."""

    area: Area
    gateway: str
    placements: Mapping[str, Placement] = field(default_factory=dict)  # sensor id → placement

    def area_tags(self) -> dict[str, str]:
        a = self.area
        return {
            "district": a.district,
            "street": a.street,
            "community": a.community,
            "gateway": self.gateway,
        }

    def sensor_tags(self, sensor: str, placement: Placement | None = None) -> dict[str, str]:
        """The sensor's tags; its placement from the birth unless ``placement`` is given."""
        tags = self.area_tags()
        tags["sensor"] = sensor
        placed = self.placements.get(sensor, _NO_PLACEMENT) if placement is None else placement
        if placed.building is not None:
            tags["building"] = placed.building
        if placed.risk_point is not None:
            tags["risk_point"] = placed.risk_point.value
        return tags

    def coordinates(self, sensor: str) -> Coordinates | None:
        """Where the sensor is, if its birth said so."""
        return self.placements.get(sensor, _NO_PLACEMENT).coordinates

    def position(self) -> Coordinates | None:
        """Where the gateway is: the mean of its sensors' coordinates (None if none has any)."""
        return mean_position(p.coordinates for p in self.placements.values())


def mean_position(points: Iterable[Coordinates | None]) -> Coordinates | None:
    """The mean of the known ``points`` (a street's or a gateway's map point); None if none."""
    known = [p for p in points if p is not None]
    if not known:
        return None
    lat = sum(p.lat for p in known) / len(known)
    lon = sum(p.lon for p in known) / len(known)
    return Coordinates(lat=lat, lon=lon)


def _position_fields(where: Coordinates | None) -> dict[str, FieldValue]:
    return {} if where is None else {"lat": float(where.lat), "lon": float(where.lon)}


def _sorted(tags: Mapping[str, str]) -> Tags:
    return tuple(sorted(tags.items()))


def _metric_value(kind: KindName, name: str, value: float | bool) -> FieldValue:
    return bool(value) if KINDS[kind].metric(name).is_flag else float(value)


def _reading_point(reading: Reading, origin: Origin) -> Point:
    tags = origin.sensor_tags(reading.sensor)
    tags["quality"] = reading.quality.value
    fields = {k: _metric_value(reading.kind, k, v) for k, v in reading.values.items()}
    return Point(reading.kind.value, _sorted(tags), fields, reading.t)


def _summary_point(summary: WindowSummary, origin: Origin) -> Point:
    fields: dict[str, FieldValue] = {}
    for name, s in summary.stats.items():
        fields[f"{name}_min"] = float(s.min)
        fields[f"{name}_max"] = float(s.max)
        fields[f"{name}_mean"] = float(s.mean)
        fields[f"{name}_last"] = float(s.last)
        fields[f"{name}_count"] = s.count
    for name, flag in summary.flags.items():
        fields[name] = bool(flag)
    fields["window_s"] = (summary.end - summary.start) / 1000
    tags = _sorted(origin.sensor_tags(summary.sensor))
    return Point(window_measurement(summary.kind), tags, fields, summary.end)


def telemetry_points(batch: TelemetryBatch, origin: Origin) -> list[Point]:
    """A point per reading (time: the sample) and per window summary (time: the window end)."""
    points = [_reading_point(r, origin) for r in batch.readings]
    points.extend(_summary_point(s, origin) for s in batch.summaries)
    return points


def event_points(event: AnomalyEvent, origin: Origin) -> list[Point]:
    """``anomaly_event``: the event's place, kind, metric, type, level and state as tags."""
    tags = origin.sensor_tags(event.sensor)
    tags |= {
        "kind": event.kind.value,
        "type": event.type.value,
        "level": event.level.value,
        "state": event.state.value,
    }
    if event.metric is not None:  # a tag, so two metrics' events at one instant both stay
        tags["metric"] = event.metric
    fields: dict[str, FieldValue] = {}
    if event.value is not None:
        fields["value"] = float(event.value)  # a flag's True/False as 1.0/0.0
    if event.threshold is not None:
        fields["threshold"] = float(event.threshold)
    fields |= {"test": event.test, "replayed": event.replayed, "id": event.id}
    fields["detail"] = event.detail
    fields["severity"] = event.level.rank if event.state is EventState.RAISED else 0
    fields |= _position_fields(origin.coordinates(event.sensor))
    return [Point("anomaly_event", _sorted(tags), fields, event.t)]


def health_points(health: GatewayHealth, origin: Origin) -> list[Point]:
    """``gateway_health``: numbers only, so every field can be graphed."""
    fields: dict[str, FieldValue] = {"uptime_s": float(health.uptime_s)}
    fields["reconnects"] = health.reconnects
    for lane, depth in health.buffer_depth.items():
        fields[f"buffer_depth_{lane}"] = depth
    fields["buffer_depth_total"] = sum(health.buffer_depth.values())
    fields["dropped_total"] = sum(health.dropped.values())
    fields["rejected_total"] = sum(health.rejected.values())
    fields["lost_ranges"] = len(health.lost)
    fields["alert_mode"] = int(health.alert_mode)
    fields["sensors_reporting"] = len(health.last_seen)
    return [Point("gateway_health", _sorted(origin.area_tags()), fields, health.t)]


def state_points(state: GatewayState, origin: Origin) -> list[Point]:
    """``gateway_state``: a birth (online) or a death (offline), at the mean of its sensors'
    coordinates; with a birth, a ``sensor_info`` point per sensor it announced."""
    fields: dict[str, FieldValue] = {
        "online": state.online,
        "sensors": len(state.sensors),
        "software": state.software,
    }
    fields |= _position_fields(origin.position())
    points = [Point("gateway_state", _sorted(origin.area_tags()), fields, state.t)]
    if state.online:
        points.extend(_sensor_info_point(s, origin, state.t) for s in state.sensors)
    return points


def _sensor_info_point(sensor: SensorInfo, origin: Origin, t: int) -> Point:
    tags = origin.sensor_tags(sensor.id, sensor.placement)
    tags["kind"] = sensor.kind.value
    fields = _position_fields(sensor.placement.coordinates)
    if sensor.placement.floor is not None:
        fields["floor"] = sensor.placement.floor
    fields["report_interval_s"] = float(sensor.report_interval_s)
    fields["offline_after_s"] = float(sensor.offline_after_s)
    fields["count"] = 1
    return Point("sensor_info", _sorted(tags), fields, t)


def hub_event_points(event: HubEvent) -> list[Point]:
    """``hub_event``: what the hub noticed; ``count`` is 1 so panels can sum events."""
    tags = {
        "type": event.type.value,
        "level": event.level.value,
        "district": event.district,
        "street": event.street,
    }
    optional = {
        "community": event.community,
        "gateway": event.gateway,
        "sensor": event.sensor,
        "cause": event.cause.value if event.cause is not None else None,
    }
    tags |= {k: v for k, v in optional.items() if v is not None}
    fields: dict[str, FieldValue] = {
        "count": 1,
        "detail": event.detail,
        "gateways": ",".join(event.gateways),
    }
    if event.since is not None:
        fields["since_ms"] = event.since
    return [Point("hub_event", _sorted(tags), fields, event.t)]


def incident_points(incident: Incident) -> list[Point]:
    """``incident``: one point per change; ``street`` is ``*`` for district and city ones."""
    tags = {
        "district": incident.district,
        "street": incident.street or "*",
        "hazard": incident.hazard.value,
        "level": incident.level.value,
        "state": incident.state.value,
        "scope": incident.scope.value,
    }
    if incident.community is not None:
        tags["community"] = incident.community
    fields: dict[str, FieldValue] = {
        "id": incident.id,
        "count": 1,
        "muted": incident.muted,
        "acknowledged_by": incident.acknowledged_by or "",
        "open_s": (incident.updated_at - incident.opened_at) / 1000,
        "severity": incident.level.rank,
    }
    return [Point("incident", _sorted(tags), fields, incident.updated_at)]


@dataclass(frozen=True, slots=True)
class StreetPicture:
    """A street as ``street_status`` shows it (``hub.status`` works it out)."""

    district: str
    street: str
    open_by_level: Mapping[Level, int]  # open and acknowledged incidents spanning the street
    unacknowledged: int  # open, not muted
    gateways_online: int
    gateways_total: int
    cut_off: bool  # an area outage of the street, or of one of its communities
    position: Coordinates | None = None

    @property
    def level(self) -> Level:
        """The highest level of the street's open incidents (NONE without any)."""
        return max((lv for lv, n in self.open_by_level.items() if n), default=Level.NONE)


def street_status_points(picture: StreetPicture, t: int) -> list[Point]:
    """``street_status``: the street's picture at hub time ``t``."""
    tags = {"district": picture.district, "street": picture.street}
    level = picture.level
    fields: dict[str, FieldValue] = {
        "severity": level.rank,
        "level": level.value,
        "open_incidents": sum(picture.open_by_level.values()),
    }
    for lv in WARNING_LEVELS:
        fields[f"open_{lv.value}"] = picture.open_by_level.get(lv, 0)
    fields["unacknowledged"] = picture.unacknowledged
    fields["gateways_online"] = picture.gateways_online
    fields["gateways_total"] = picture.gateways_total
    fields["cut_off"] = picture.cut_off
    fields |= _position_fields(picture.position)
    return [Point("street_status", _sorted(tags), fields, t)]


def page_points(entry: PageRecord, incident: Incident, role: str | None) -> list[Point]:
    """``page``: one audit entry of the escalator (a round, or one delivery to one person);
    ``role`` is the recipient's (``tier``), when known."""
    tags = {
        "district": incident.district,
        "street": incident.street or "*",
        "hazard": incident.hazard.value,
        "level": incident.level.value,
        "action": entry.action,
    }
    if entry.channel is not None:
        tags["channel"] = entry.channel
    fields: dict[str, FieldValue] = {
        "incident": incident.id,
        "recipient": entry.recipient or "",
        "count": 1,
    }
    if role is not None:
        fields["tier"] = role
    return [Point("page", _sorted(tags), fields, entry.t)]

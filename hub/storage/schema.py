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

from hub.storage.base import FieldValue, Point
from streetwatch.fast_telemetry import FastReading, Telemetry
from streetwatch.kinds import KINDS, KindName
from streetwatch.location import Area, Coordinates, Placement
from streetwatch.messages import (
    MAX_SENSORS_PER_GATEWAY,
    AnomalyEvent,
    EventState,
    GatewayHealth,
    GatewayState,
    Quality,
    Reading,
    SensorInfo,
    WindowSummary,
)

__all__ = [
    "MEASUREMENTS",
    "Measurement",
    "Origin",
    "event_points",
    "health_points",
    "mean_position",
    "position_fields",
    "sorted_tags",
    "state_points",
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
    # (sensor, quality) → sorted tags of its readings: every reading of a sensor has the same.
    _reading_tags: dict[tuple[str, str], Tags] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

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

    def reading_tags(self, sensor: str, quality: str) -> Tags:
        """The sorted tags of a reading of ``sensor`` (cached: this is per stored reading)."""
        key = (sensor, quality)
        tags = self._reading_tags.get(key)
        if tags is None:
            if len(self._reading_tags) >= 4 * MAX_SENSORS_PER_GATEWAY:
                self._reading_tags.clear()  # sensors not in the birth are not bounded by it
            tags = sorted_tags(self.sensor_tags(sensor) | {"quality": quality})
            self._reading_tags[key] = tags
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


def position_fields(where: Coordinates | None) -> dict[str, FieldValue]:
    return {} if where is None else {"lat": float(where.lat), "lon": float(where.lon)}


def sorted_tags(tags: Mapping[str, str]) -> Tags:
    return tuple(sorted(tags.items()))


# Enum ``.value`` is a descriptor call; per stored reading a dict lookup is several times cheaper.
_KIND_NAMES = {kind: kind.value for kind in KindName}
_QUALITY_NAMES = {quality: quality.value for quality in Quality}
_FLAG_NAMES = {kind: KINDS[kind].flag_names for kind in KindName}


def _reading_points(readings: Iterable[Reading | FastReading], origin: Origin) -> list[Point]:
    # The per-reading loop of ingest, written flat: a call per reading costs as much as its work.
    points: list[Point] = []
    append = points.append
    tags_cache = origin._reading_tags
    for r in readings:
        kind = r.kind
        flags = _FLAG_NAMES[kind]
        fields: Mapping[str, FieldValue] = r.values  # shared, not copied: nothing changes either
        for k, v in fields.items():
            if type(v) is not (bool if k in flags else float):  # e.g. true sent for a number
                fields = {k: bool(v) if k in flags else float(v) for k, v in fields.items()}
                break
        sensor, quality = r.sensor, _QUALITY_NAMES[r.quality]
        tags = tags_cache.get((sensor, quality)) or origin.reading_tags(sensor, quality)
        append(Point(_KIND_NAMES[kind], tags, fields, r.t))
    return points


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
    tags = sorted_tags(origin.sensor_tags(summary.sensor))
    return Point(window_measurement(summary.kind), tags, fields, summary.end)


def telemetry_points(batch: Telemetry, origin: Origin) -> list[Point]:
    """A point per reading (time: the sample) and per window summary (time: the window end)."""
    points = _reading_points(batch.readings, origin)
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
    fields |= position_fields(origin.coordinates(event.sensor))
    return [Point("anomaly_event", sorted_tags(tags), fields, event.t)]


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
    return [Point("gateway_health", sorted_tags(origin.area_tags()), fields, health.t)]


def state_points(state: GatewayState, origin: Origin) -> list[Point]:
    """``gateway_state``: a birth (online) or a death (offline), at the mean of its sensors'
    coordinates; with a birth, a ``sensor_info`` point per sensor it announced."""
    fields: dict[str, FieldValue] = {
        "online": state.online,
        "up": int(state.online),  # 1/0: what a map can colour by (Grafana colours numbers)
        "sensors": len(state.sensors),
        "software": state.software,
    }
    fields |= position_fields(origin.position())
    points = [Point("gateway_state", sorted_tags(origin.area_tags()), fields, state.t)]
    if state.online:
        points.extend(_sensor_info_point(s, origin, state.t) for s in state.sensors)
    return points


def _sensor_info_point(sensor: SensorInfo, origin: Origin, t: int) -> Point:
    tags = origin.sensor_tags(sensor.id, sensor.placement)
    tags["kind"] = sensor.kind.value
    fields = position_fields(sensor.placement.coordinates)
    if sensor.placement.floor is not None:
        fields["floor"] = sensor.placement.floor
    fields["report_interval_s"] = float(sensor.report_interval_s)
    fields["offline_after_s"] = float(sensor.offline_after_s)
    fields["count"] = 1
    return Point("sensor_info", sorted_tags(tags), fields, t)

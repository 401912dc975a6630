"""Overdue sensors: a sensor not seen for longer than its ``offline_after_s`` (plus a grace).

The tracker calls ``check`` only for gateways that are online and not inside an area outage, so
sensors behind a dead gateway raise nothing of their own. The time counts from ``up_since`` (the
gateway's latest birth or return, or the hub's own reconnection to its broker) at the earliest:
a gateway that comes back is given a full window to replay what it buffered before its sensors
count as overdue.

A sensor seen again is back only if the sign of life is recent (within the same limit of the
latest hub time): an old reading replayed from a gateway's outbox does not end the episode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hub.events import HubEvent, HubEventType
from hub.registry import GatewayRecord
from streetwatch.levels import Level

__all__ = ["OverdueSensor", "SensorWatch"]


@dataclass(frozen=True, slots=True)
class OverdueSensor:
    gateway: str
    sensor: str
    since: int  # its last sign of life, or its gateway's (or the hub's link's) return if later


@dataclass(slots=True)
class _Sensor:
    last_seen: int | None = None
    overdue_since: int | None = None  # set while overdue (and reported)


class SensorWatch:
    def __init__(self, grace_ms: int, emit: Callable[[HubEvent], None]) -> None:
        self._grace_ms = grace_ms
        self._emit = emit
        self._sensors: dict[str, dict[str, _Sensor]] = {}

    def seen(self, record: GatewayRecord, sensor: str, t_ms: int, now_ms: int) -> None:
        if sensor not in record.sensors:
            return
        s = self._sensors.setdefault(record.gateway, {}).setdefault(sensor, _Sensor())
        s.last_seen = t_ms if s.last_seen is None else max(s.last_seen, t_ms)
        if s.overdue_since is not None:
            self._back(record, sensor, s, now_ms)

    def seen_many(self, record: GatewayRecord, latest: Mapping[str, int], now_ms: int) -> None:
        """``seen`` for many sensors of one gateway (sensor → its latest time): once per
        telemetry batch, so written as one loop."""
        sensors = self._sensors.setdefault(record.gateway, {})
        known = record.sensors
        for sensor, t_ms in latest.items():
            if sensor not in known:
                continue
            s = sensors.get(sensor)
            if s is None:
                s = sensors[sensor] = _Sensor()
            if s.last_seen is None or t_ms > s.last_seen:
                s.last_seen = t_ms
            if s.overdue_since is not None:
                self._back(record, sensor, s, max(now_ms, t_ms))

    def check(self, record: GatewayRecord, up_since: int, now_ms: int) -> None:
        """Raise overdue and back events of an online gateway's sensors."""
        sensors = self._sensors.setdefault(record.gateway, {})
        for gone in sensors.keys() - record.sensors.keys():
            del sensors[gone]  # no longer in its birth
        for sensor in record.sensors:
            s = sensors.setdefault(sensor, _Sensor())
            if s.overdue_since is not None:
                self._back(record, sensor, s, now_ms)
                continue
            since = max(s.last_seen or 0, up_since)
            if now_ms - since > self._limit(record, sensor):
                s.overdue_since = since
                self._emit(_event(HubEventType.SENSOR_OVERDUE, record, sensor, since, now_ms))

    def forget(self, gateway: str) -> None:
        self._sensors.pop(gateway, None)

    def overdue(self) -> list[OverdueSensor]:
        return [
            OverdueSensor(gateway, sensor, s.overdue_since)
            for gateway, sensors in sorted(self._sensors.items())
            for sensor, s in sorted(sensors.items())
            if s.overdue_since is not None
        ]

    def _limit(self, record: GatewayRecord, sensor: str) -> int:
        return round(record.sensors[sensor].offline_after_s * 1000) + self._grace_ms

    def _back(self, record: GatewayRecord, sensor: str, s: _Sensor, now_ms: int) -> None:
        since, last = s.overdue_since, s.last_seen
        if since is None or last is None or last <= since:
            return
        if now_ms - last <= self._limit(record, sensor):
            s.overdue_since = None
            self._emit(_event(HubEventType.SENSOR_BACK, record, sensor, since, now_ms))


def _event(
    type_: HubEventType, record: GatewayRecord, sensor: str, since: int, now_ms: int
) -> HubEvent:
    return HubEvent(
        id=f"{type_}:{record.gateway}:{sensor}:{since}",
        type=type_,
        t=now_ms,
        level=Level.BLUE,
        district=record.area.district,
        street=record.area.street,
        community=record.area.community,
        gateway=record.gateway,
        sensor=sensor,
        since=since,
    )

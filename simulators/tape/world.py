"""The simulated world of one scenario: a physical model behind every sensor of the city, stepped
together, and each device's reporting habit.

Every site gets its own parameters from the seed (one underpass drains worse than another), the
hydrants of a street share one water main, and each sensor reads through its own random stream,
so the same seed gives the same readings whatever else the scenario does. A device reports as
real ones are configured to: at once when its reading moves (2 % of the metric's range, or a flag
flips), otherwise every ``report_interval_s`` of its kind (every minute while in alarm), never
more often than the tick.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from simulators.city import SimCity, SimGateway, SimSensor
from simulators.devices import DeviceSpec, Sample
from simulators.physics import (
    GasLeak,
    Hydrant,
    Main,
    MainsPower,
    ManholeCover,
    PhysicalModel,
    Reading,
    SmokeRoom,
    Waterlogging,
)
from simulators.tape.hazards import deserved
from streetwatch.kinds import KindName, get_kind
from streetwatch.levels import Level
from streetwatch.location import RiskPoint

CHANGE = 0.02
"""A move of this fraction of a metric's physical range is reported at once."""

ALARM_REPORT_S = 60.0
"""While its reading deserves a warning, a device reports at least this often (alarm devices
shorten their reporting period in alarm: 报警状态下上报周期缩短). Plausible assumption."""

HYDRANT_SPACING_M = 120.0
"""GB 50974: hydrants stand at most 120 m apart along a street."""

_DRAINAGE_MM_H = {RiskPoint.UNDERPASS: 25.0, RiskPoint.UNDERGROUND_GARAGE: 35.0}
"""Underpasses drain worst, garage ramps best. Plausible assumptions around the 30 mm/h default."""

_STATE = ("battery", "linkquality", "rssi")
LINKQUALITY = 120.0
RSSI_DBM = -95.0
"""A fair radio link (Zigbee LQI 0–255, LoRaWAN RSSI); the scenarios do not model radio."""


@dataclass(slots=True)
class Device:
    """One sensor of the city in the world: where it is, its physics, how it reports."""

    gateway: SimGateway
    sensor: SimSensor
    spec: DeviceSpec
    model: PhysicalModel
    rng: random.Random
    battery: float
    first_ms: int
    last_ms: int | None = None
    last: Reading = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.sensor.id

    def due(self, t_ms: int, reading: Reading) -> bool:
        """Whether the device reports ``reading`` now."""
        if self.last_ms is None:
            return t_ms >= self.first_ms
        kind = get_kind(self.sensor.kind)
        alarmed = deserved(kind.name, reading) > Level.NONE
        every_s = ALARM_REPORT_S if alarmed else kind.report_interval_s
        if t_ms - self.last_ms >= every_s * 1000:
            return True
        for name, value in reading.items():
            before = self.last.get(name)
            if isinstance(value, bool) or isinstance(before, bool):
                if value != before:
                    return True
            elif before is not None:
                metric = kind.metric(name)
                if abs(value - before) >= CHANGE * (metric.high - metric.low):
                    return True
        return False


class World:
    """Every device of ``city`` with its model, stepped together from ``start``."""

    def __init__(self, city: SimCity, seed: int, start: datetime) -> None:
        self.city = city
        self.start_ms = int(start.timestamp() * 1000)
        self.devices: dict[str, Device] = {}
        mains: dict[str, Main] = {}  # one water main per street
        hydrants: dict[str, int] = {}  # hydrants placed on it so far
        hour = start.hour + start.minute / 60
        for _, street, community in city.communities():
            main = mains.setdefault(street.id, Main(start_hour=hour))
            for gateway in community.gateways:
                for sensor in gateway.sensors:
                    rng = random.Random(f"{seed}:{sensor.id}")
                    model: PhysicalModel
                    if sensor.kind is KindName.HYDRANT:
                        n = hydrants[street.id] = hydrants.get(street.id, -1) + 1
                        model = Hydrant(main=main, position_m=n * HYDRANT_SPACING_M)
                    else:
                        model = _model(sensor, rng)
                    spec = DeviceSpec(
                        sensor.source.ecosystem,
                        sensor.source.device,
                        sensor.kind,
                        base=sensor.source.base_topic,
                    )
                    first = min(60.0, get_kind(sensor.kind).report_interval_s)
                    self.devices[sensor.id] = Device(
                        gateway,
                        sensor,
                        spec,
                        model,
                        rng,
                        battery=round(rng.uniform(55, 100)),
                        first_ms=self.start_ms + int(rng.uniform(0, first) * 1000),
                    )

    def step(self, dt_s: float) -> None:
        """Advance every model by ``dt_s`` (hydrants move their shared main once)."""
        for device in self.devices.values():
            device.model.step(dt_s)

    def reports(self, t_ms: int) -> Iterator[Sample]:
        """What each device reads now, for those that report now."""
        for device in self.devices.values():
            reading = device.model.read(device.rng)
            if not device.due(t_ms, reading):
                continue
            device.last_ms, device.last = t_ms, reading
            kind = get_kind(device.sensor.kind)
            yield Sample(
                device.id,
                device.sensor.kind,
                t_ms,
                {k: v for k, v in reading.items() if k not in _STATE},
                battery=device.battery if kind.has_metric("battery") else None,
                linkquality=LINKQUALITY if kind.has_metric("linkquality") else None,
                rssi=RSSI_DBM if kind.has_metric("rssi") else None,
            )


def _model(sensor: SimSensor, rng: random.Random) -> PhysicalModel:
    kind = sensor.kind
    if kind is KindName.WATER_LEVEL:
        base = _DRAINAGE_MM_H.get(sensor.risk_point or RiskPoint.LOW_LYING_ROAD, 30.0)
        return Waterlogging(drainage_mm_h=base * rng.uniform(0.85, 1.15))
    if kind is KindName.SMOKE:
        return SmokeRoom()
    if kind is KindName.GAS:
        return GasLeak.in_pipe_well() if sensor.risk_point is RiskPoint.PIPE_WELL else GasLeak()
    if kind is KindName.MANHOLE_COVER:
        return ManholeCover()
    return MainsPower()

"""Ground truth of hazards, read off the noise-free physics while the scenario is compiled.

A ``Track`` follows one hazard (a fire in a building, the flood of a street, a leak in a well)
through its sensors. At every tick it takes the *true* values of the danger itself (the fire's
smoke, not cooking smoke; the leak's methane, not a spray) and asks the kind table which level
each deserves; ``combine`` applies the correlation DOMAIN.md suggests (two smoke detectors in a
building: red). The hazard is true from the first tick any sensor deserves a warning to the last,
and deserves the highest level it reached, unless the scenario says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from simulators.physics import GasLeak, Hydrant, PhysicalModel, SmokeRoom, Waterlogging
from simulators.truth import TruthKind, TruthRecord
from streetwatch.anomalies import AnomalyType, Hazard
from streetwatch.kinds import KindName, get_kind
from streetwatch.levels import Level

TrueValues = Callable[[PhysicalModel], Mapping[str, float | bool]]
Combine = Callable[[list[Level]], Level]


def deserved(kind: KindName, values: Mapping[str, float | bool]) -> Level:
    """The level the kind table gives these values (thresholds and alarm flags)."""
    spec, level = get_kind(kind), Level.NONE
    for rule in spec.thresholds:
        value = values.get(rule.metric)
        if value is not None and not isinstance(value, bool):
            level = max(level, rule.level_of(value))
    for flag in spec.flags:
        if flag.anomaly is AnomalyType.ALARM_FLAG and values.get(flag.flag) is True:
            level = max(level, flag.level)
    return level


def fire_smoke(model: PhysicalModel) -> Mapping[str, float | bool]:
    assert isinstance(model, SmokeRoom)
    return {"smoke_density": model.fire_db_m, "smoke": model.fire_db_m >= model.trip_db_m}


def leak_gas(model: PhysicalModel) -> Mapping[str, float | bool]:
    assert isinstance(model, GasLeak)
    lel = model.sensitivity * model.leak_lel
    return {"lel": lel, "gas": lel >= model.alarm_lel}


def flood_water(model: PhysicalModel) -> Mapping[str, float | bool]:
    assert isinstance(model, Waterlogging)
    return {"depth": model.depth_cm, "water_leak": model.depth_cm > 0}


def main_pressure(model: PhysicalModel) -> Mapping[str, float | bool]:
    assert isinstance(model, Hydrant)
    return {"pressure": model.main.pressure_at(model.position_m)}


def hydrant_flow(model: PhysicalModel) -> Mapping[str, float | bool]:
    assert isinstance(model, Hydrant)
    return {"flow": model.flowing}


def hydrant_tilt(model: PhysicalModel) -> Mapping[str, float | bool]:
    assert isinstance(model, Hydrant)
    return {"tilt": model.tilt_deg}


def hydrant_cover(model: PhysicalModel) -> Mapping[str, float | bool]:
    assert isinstance(model, Hydrant)
    return {"cover_open": model.cover_open}


def strongest(levels: list[Level]) -> Level:
    return max(levels, default=Level.NONE)


def two_detectors_red(levels: list[Level]) -> Level:
    """DOMAIN.md: one smoke detector in alarm = orange, two or more in one building = red."""
    return Level.RED if sum(lv >= Level.ORANGE for lv in levels) >= 2 else strongest(levels)


def several_hydrants_orange(levels: list[Level]) -> Level:
    """DOMAIN.md: several neighbouring hydrants losing pressure at once is a main burst."""
    low = sum(lv > Level.NONE for lv in levels)
    return max(strongest(levels), Level.ORANGE) if low >= 2 else strongest(levels)


@dataclass
class Track:
    """One hazard followed through its sensors."""

    what: str
    hazard: Hazard
    kind: KindName
    place: Mapping[str, str | None]  # district, street, community, building
    sensors: dict[str, PhysicalModel]
    values: TrueValues
    gateways: tuple[str, ...] = ()
    combine: Combine = strongest
    declared: Level | None = None
    first_ms: int | None = None
    last_ms: int | None = None
    peak: Level = Level.NONE
    seen: set[str] = field(default_factory=set)

    def observe(self, t_ms: int) -> None:
        levels = {s: deserved(self.kind, self.values(m)) for s, m in self.sensors.items()}
        level = self.combine(list(levels.values()))
        if level > Level.NONE:
            self.first_ms = t_ms if self.first_ms is None else self.first_ms
            self.last_ms = t_ms
            self.peak = max(self.peak, level)
            self.seen.update(s for s, lv in levels.items() if lv > Level.NONE)

    def record(self, end_ms: int, still: bool) -> TruthRecord | None:
        """The truth record, or None if the hazard never became dangerous."""
        if self.first_ms is None or self.last_ms is None:
            return None
        return TruthRecord(
            kind=TruthKind.HAZARD,
            what=self.what,
            hazard=self.hazard,
            district=self.place["district"] or "",
            street=self.place["street"] or "",
            community=self.place.get("community"),
            building=self.place.get("building"),
            sensors=tuple(sorted(self.seen)),
            gateways=self.gateways,
            start_ms=self.first_ms,
            end_ms=end_ms if still else self.last_ms,
            level=self.declared or self.peak,
        )


def records(tracks: Iterable[Track], end_ms: int, tick_ms: int) -> list[TruthRecord]:
    """Truth records of every track that became a hazard (still on at the end: to the end)."""
    out = []
    for track in tracks:
        still = track.last_ms is not None and track.last_ms >= end_ms - tick_ms
        record = track.record(end_ms, still)
        if record is not None:
            out.append(record)
    return out

"""A scenario's timeline turned into what the compiler acts on.

Each step becomes some of: changes to the physics at given times (rain starts, a fire flames up),
faults on a sensor's stream, controls for the runner (cut an uplink, power a gateway off, restart
a broker), a ``Track`` that will find the hazard's ground truth, and truth records for faults and
nuisances, whose times the scenario fixes. One small function per ``do``, in ``PLANNERS``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

from simulators.city import SimCity, SimGateway, SimSensor
from simulators.devices import (
    ClockSkew,
    Drift,
    Dropout,
    Duplicate,
    Fault,
    LowBattery,
    Reorder,
    SelfTest,
    Spikes,
    Stuck,
    Tamper,
)
from simulators.physics import GasLeak, Hydrant, SmokeRoom, SmokeSource, Waterlogging
from simulators.scenarios import model as m
from simulators.tape import hazards as h
from simulators.tape.targets import TargetError, Targets
from simulators.tape.world import World
from simulators.truth import TruthKind, TruthRecord
from streetwatch.anomalies import Hazard
from streetwatch.kinds import KindName, get_kind
from streetwatch.location import RiskPoint

NUISANCE_S = 20 * 60.0
"""How long a nuisance lasts when the scenario gives no ``for``."""
SETTLE_S = 10 * 60.0
"""After a nuisance stops, the smoke or spray takes this long to clear."""

FAULT_TYPES: dict[str, type[Fault]] = {
    "drift": Drift, "stuck": Stuck, "spikes": Spikes, "low_battery": LowBattery,
    "tamper": Tamper, "self_test": SelfTest, "clock_skew": ClockSkew, "dropout": Dropout,
    "duplicate": Duplicate, "reorder": Reorder,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Control:
    """Something the runner does at ``t_ms``: to a gateway, or to a broker."""

    t_ms: int
    action: str  # uplink_cut uplink_restore power_off power_on broker_down broker_up test_alarm
    target: str  # gateway id, or "hub" / "local"
    sensor: str | None = None


@dataclass
class Plan:
    scenario: m.Scenario
    city: SimCity
    world: World
    seed: int
    changes: list[tuple[int, int, Callable[[], None]]] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    controls: list[Control] = field(default_factory=list)
    tracks: dict[tuple[str, ...], h.Track] = field(default_factory=dict)
    notes: list[TruthRecord] = field(default_factory=list)
    off: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.targets = Targets(self.city)
        self.end_ms = self.world.start_ms + int(self.scenario.duration * 1000)

    def ms(self, seconds: float) -> int:
        return self.world.start_ms + int(seconds * 1000)

    def window(self, step: m.Step, default: float | None = None) -> tuple[int, int | None]:
        length = step.for_ if step.for_ is not None else default
        end = None if length is None else min(self.end_ms, self.ms(step.at + length))
        return self.ms(step.at), end

    def change(self, t_ms: int | None, fn: Callable[[], None]) -> None:
        if t_ms is not None:
            self.changes.append((t_ms, len(self.changes), fn))

    def model(self, sensor: SimSensor) -> Any:
        return self.world.devices[sensor.id].model

    def place(self, sensor: SimSensor, building: bool = False) -> dict[str, str | None]:
        gateway = self.targets.gateway_of(sensor)
        area = gateway.area
        return {
            "district": area.district,
            "street": area.street,
            "community": area.community,
            "building": sensor.building if building else None,
        }

    def track(self, key: tuple[str, ...], step: m.Step, track: h.Track) -> None:
        """Follow ``track``, unless a track of this key (an earlier step) already does."""
        self.tracks.setdefault(key, track)
        if step.level is not None:
            self.tracks[key].declared = step.level

    def note(
        self, step: m.Step, kind: TruthKind, what: str, hazard: Hazard, sensors: list[SimSensor],
        gateways: list[SimGateway], start: int, end: int | None,
    ) -> None:  # fmt: skip
        where = gateways[0].area if gateways else self.targets.gateway_of(sensors[0]).area
        streets = sorted({g.area.street for g in gateways} - {where.street})
        one_community = len({g.area.community for g in gateways}) <= 1
        building = sensors[0].building if len(sensors) == 1 and sensors[0].building else None
        self.notes.append(
            TruthRecord(
                kind=kind, what=step.what or what, hazard=hazard, district=where.district,
                street=where.street, streets=tuple(streets),
                community=where.community if one_community else None,
                building=building if one_community else None,
                sensors=tuple(s.id for s in sensors), gateways=tuple(g.id for g in gateways),
                start_ms=start, end_ms=end if end is not None else self.end_ms,
            )
        )  # fmt: skip


def plan_rain(p: Plan, step: m.Rain) -> None:
    streets = range(len(p.targets.streets)) if step.streets == "all" else step.streets
    start, end = p.window(step)
    for index in streets:
        district, street = p.targets.street(index)
        sensors = [s for g in p.targets.gateways_of(index) for s in g.sensors]
        gauges = [s for s in sensors if s.kind is KindName.WATER_LEVEL]
        for s in gauges:
            pond = cast(Waterlogging, p.model(s))
            p.change(start, partial(setattr, pond, "rain_mm_h", step.mm_h))
            p.change(end, partial(setattr, pond, "rain_mm_h", 0.0))
        place = {"district": district.id, "street": street.id}
        p.track(("flood", street.id), step, h.Track(
            step.what or "street_flood", Hazard.FLOOD, KindName.WATER_LEVEL, place,
            {s.id: p.model(s) for s in gauges}, h.flood_water,
            gateways=tuple(g.id for g in p.targets.gateways_of(index)),
        ))  # fmt: skip


def plan_fire(p: Plan, step: m.Fire) -> None:
    building, detectors = p.targets.smoke_building(step.where)
    source = {"smouldering": SmokeSource.SMOULDERING, "flaming": SmokeSource.FLAMING}
    start, end = p.window(step)
    for s in detectors:
        room = cast(SmokeRoom, p.model(s))
        stage = source.get(step.stage, SmokeSource.NONE)
        p.change(start, partial(setattr, room, "source", stage))
        p.change(end, partial(setattr, room, "source", SmokeSource.NONE))
    first = detectors[0]
    p.track(("fire", p.targets.gateway_of(first).area.community, building), step, h.Track(
        step.what or "building_fire", Hazard.FIRE, KindName.SMOKE, p.place(first, building=True),
        {s.id: p.model(s) for s in detectors}, h.fire_smoke,
        gateways=tuple(sorted({p.targets.gateway_of(s).id for s in detectors})),
        combine=h.two_detectors_red,
    ))  # fmt: skip


def plan_cooking(p: Plan, step: m.Cooking) -> None:
    sensor = p.targets.sensor(step.where, KindName.SMOKE, step.sensor)
    room = cast(SmokeRoom, p.model(sensor))
    start, end = p.window(step, NUISANCE_S)
    p.change(start, lambda: setattr(room, "source", SmokeSource.COOKING))
    p.change(end, lambda: setattr(room, "source", SmokeSource.NONE))
    settled = min(p.end_ms, (end or p.end_ms) + int(SETTLE_S * 1000))
    p.note(step, TruthKind.NUISANCE, "cooking_smoke", Hazard.FIRE, [sensor],
           [p.targets.gateway_of(sensor)], start, settled)  # fmt: skip


def plan_gas_leak(p: Plan, step: m.GasLeakStep) -> None:
    risk = RiskPoint.PIPE_WELL if step.space == "pipe_well" else RiskPoint.KITCHEN
    sensor = p.targets.sensor(step.where, KindName.GAS, 0, risk)
    leak = cast(GasLeak, p.model(sensor))
    start, end = p.window(step)
    p.change(start, lambda: setattr(leak, "leak_l_per_min", step.l_per_min))
    p.change(end, lambda: setattr(leak, "leak_l_per_min", 0.0))
    what = "pipe_well_leak" if risk is RiskPoint.PIPE_WELL else "gas_leak"
    p.track(("gas", sensor.id), step, h.Track(
        step.what or what, Hazard.GAS, KindName.GAS, p.place(sensor, building=True),
        {sensor.id: leak}, h.leak_gas, gateways=(p.targets.gateway_of(sensor).id,),
    ))  # fmt: skip


def plan_spray(p: Plan, step: m.Spray) -> None:
    sensor = p.targets.sensor(step.where, KindName.GAS, step.sensor, RiskPoint.KITCHEN)
    leak = cast(GasLeak, p.model(sensor))
    start, end = p.window(step, 120.0)
    p.change(start, lambda: setattr(leak, "spraying", True))
    p.change(end, lambda: setattr(leak, "spraying", False))
    settled = min(p.end_ms, (end or p.end_ms) + int(SETTLE_S * 1000))
    p.note(step, TruthKind.NUISANCE, "disinfectant", Hazard.GAS, [sensor],
           [p.targets.gateway_of(sensor)], start, settled)  # fmt: skip


_HYDRANT = {
    "theft": ("flowing", "hydrant_theft", h.hydrant_flow),
    "collision": ("collided", "collision", h.hydrant_tilt),
    "cover_open": ("cover_open", "hydrant_cover_open", h.hydrant_cover),
}


def plan_hydrant(p: Plan, step: m.HydrantEvent) -> None:
    sensor = p.targets.sensor(step.where, KindName.HYDRANT, step.hydrant)
    hydrant = cast(Hydrant, p.model(sensor))
    attribute, what, values = _HYDRANT[step.event]
    start, end = p.window(step)
    p.change(start, lambda: setattr(hydrant, attribute, True))
    p.change(end, lambda: setattr(hydrant, attribute, False))
    p.track((what, sensor.id), step, h.Track(
        step.what or what, Hazard.WATER_SUPPLY, KindName.HYDRANT, p.place(sensor),
        {sensor.id: hydrant}, values, gateways=(p.targets.gateway_of(sensor).id,),
    ))  # fmt: skip


def plan_main_burst(p: Plan, step: m.MainBurst) -> None:
    near = p.targets.sensor(step.where, KindName.HYDRANT, step.near_hydrant)
    hydrant = cast(Hydrant, p.model(near))
    district, street = p.targets.street(step.where.street)
    on_main = [s for g in p.targets.gateways_of(step.where.street) for s in g.sensors
               if s.kind is KindName.HYDRANT]  # fmt: skip
    start, end = p.window(step)
    p.change(start, lambda: setattr(hydrant.main, "burst_at_m", hydrant.position_m))
    p.change(end, lambda: setattr(hydrant.main, "burst_at_m", None))
    place = {"district": district.id, "street": street.id}
    p.track(("burst", street.id), step, h.Track(
        step.what or "main_burst", Hazard.WATER_SUPPLY, KindName.HYDRANT, place,
        {s.id: p.model(s) for s in on_main}, h.main_pressure,
        gateways=tuple(sorted({p.targets.gateway_of(s).id for s in on_main})),
        combine=h.several_hydrants_orange,
    ))  # fmt: skip


def plan_fault(p: Plan, step: m.SensorFault) -> None:
    kind = KindName(step.kind)
    sensor = p.targets.sensor(step.where, kind, step.sensor)
    start, end = p.window(step)
    seed = zlib.crc32(f"{p.seed}:{sensor.id}:{step.at}".encode())  # hash() of str is salted
    reserved = {"start_ms", "end_ms", "sensor", "seed"} & set(step.params)
    if reserved:
        raise TargetError(f"fault {step.fault}: {', '.join(sorted(reserved))} come from the step")
    try:
        fault = FAULT_TYPES[step.fault](
            start_ms=start, end_ms=end, sensor=sensor.id, seed=seed, **step.params
        )
    except (TypeError, ValueError) as exc:  # a missing, unknown or impossible parameter
        raise TargetError(f"fault {step.fault} at {step.at:g} s: {exc}") from None
    p.faults.setdefault(sensor.id, []).append(fault)
    nuisance = step.fault == "self_test"
    p.note(step, TruthKind.NUISANCE if nuisance else TruthKind.FAULT, fault.what,
           get_kind(kind).hazard if nuisance else Hazard.DEVICE, [sensor],
           [p.targets.gateway_of(sensor)], start, end)  # fmt: skip


def plan_uplink_cut(p: Plan, step: m.UplinkCut) -> None:
    gateway = p.targets.gateway(step.where)
    start, end = p.window(step)
    p.controls.append(Control(start, "uplink_cut", gateway.id))
    if end is not None:
        p.controls.append(Control(end, "uplink_restore", gateway.id))
    p.note(step, TruthKind.FAULT, "uplink_down", Hazard.DEVICE, [], [gateway], start, end)


def plan_power_cut(p: Plan, step: m.PowerCut) -> None:
    start, end = p.window(step)
    for index in step.streets:
        gateways = p.targets.gateways_of(index)
        for g in gateways:
            p.controls.append(Control(start, "power_off", g.id))
            if end is not None:
                p.controls.append(Control(end, "power_on", g.id))
            p.off.setdefault(g.id, []).append((start, end or p.end_ms + 1))
        p.note(step, TruthKind.FAULT, "power_cut", Hazard.DEVICE, [], gateways, start, end)


def plan_broker_restart(p: Plan, step: m.BrokerRestart) -> None:
    start = p.ms(step.at)
    p.controls.append(Control(start, "broker_down", step.broker))
    p.controls.append(Control(start + int(step.down * 1000), "broker_up", step.broker))
    gateways = list(p.city.gateways())
    p.note(step, TruthKind.FAULT, "broker_restart", Hazard.DEVICE, [], gateways, start,
           start + int(step.down * 1000))  # fmt: skip


def plan_commission(p: Plan, step: m.Commission) -> None:
    gateway = p.targets.gateway(step.where)
    start = p.ms(step.at)
    p.off.setdefault(gateway.id, []).append((p.world.start_ms, start))
    p.controls.append(Control(p.world.start_ms, "power_off", gateway.id))
    p.controls.append(Control(start, "power_on", gateway.id))
    p.note(step, TruthKind.NUISANCE, "commissioning", Hazard.DEVICE, [], [gateway], start,
           min(p.end_ms, start + int(NUISANCE_S * 1000)))  # fmt: skip


def plan_test_alarm(p: Plan, step: m.TestAlarm) -> None:
    gateway = p.targets.gateway(step.where)
    if step.sensor >= len(gateway.sensors):
        raise TargetError(
            f"sensor {step.sensor} of gateway {gateway.id} does not exist: it has "
            f"{len(gateway.sensors)}, numbered from 0 in its configuration order"
        )
    sensor = gateway.sensors[step.sensor]
    start = p.ms(step.at)
    p.controls.append(Control(start, "test_alarm", gateway.id, sensor.id))
    p.note(step, TruthKind.NUISANCE, "test_alarm", get_kind(sensor.kind).hazard, [sensor],
           [gateway], start, min(p.end_ms, start + 60_000))  # fmt: skip


PLANNERS: dict[str, Callable[[Plan, Any], None]] = {
    "rain": plan_rain, "fire": plan_fire, "cooking": plan_cooking, "gas_leak": plan_gas_leak,
    "spray": plan_spray, "hydrant": plan_hydrant, "main_burst": plan_main_burst,
    "fault": plan_fault, "uplink_cut": plan_uplink_cut, "power_cut": plan_power_cut,
    "broker_restart": plan_broker_restart, "commission": plan_commission,
    "test_alarm": plan_test_alarm,
}  # fmt: skip

"""Ground truth from the noise-free physics: levels from the kind table, combined, and timed."""

from __future__ import annotations

import math

import pytest

from simulators.physics import PhysicalModel, SmokeRoom
from simulators.physics.smoke import SMOULDERING_UNTENABLE_S, UNTENABLE_DB_M
from simulators.scenarios.model import Place
from simulators.tape.compile import compile_tape
from simulators.tape.hazards import (
    Track,
    deserved,
    fire_smoke,
    records,
    several_hydrants_orange,
    strongest,
    two_detectors_red,
)
from simulators.tape.targets import Targets
from streetwatch.anomalies import Hazard
from streetwatch.kinds import KindName, get_kind
from streetwatch.levels import Level
from unit.simulators.tape.tapes import at, hazards, scenario, shipped

K = KindName
NONE, BLUE, YELLOW, ORANGE, RED = Level
PLACE = {"district": "d", "street": "s", "community": "c", "building": "b1"}


@pytest.mark.parametrize(
    ("kind", "values", "level"),
    [
        (K.SMOKE, {}, NONE),
        (K.SMOKE, {"smoke_density": 0.049}, NONE),
        (K.SMOKE, {"smoke_density": 0.05}, YELLOW),
        (K.SMOKE, {"smoke_density": 0.23}, ORANGE),
        (K.SMOKE, {"smoke_density": 0.0, "smoke": True}, ORANGE),  # the alarm flag alone
        (K.SMOKE, {"self_test": True, "battery_low": True}, NONE),  # not alarm flags
        (K.WATER_LEVEL, {"depth": 14.9}, NONE),
        (K.WATER_LEVEL, {"depth": 15}, BLUE),
        (K.WATER_LEVEL, {"depth": 31, "water_leak": True}, ORANGE),
        (K.WATER_LEVEL, {"depth": 50}, RED),
        (K.WATER_LEVEL, {"depth": 1, "water_leak": True}, YELLOW),
        (K.GAS, {"lel": 9.9, "gas": False}, NONE),
        (K.GAS, {"lel": 12, "gas": True}, ORANGE),
        (K.GAS, {"lel": 50}, RED),
        (K.HYDRANT, {"pressure": 0.3}, NONE),
        (K.HYDRANT, {"pressure": 0.12}, YELLOW),
        (K.HYDRANT, {"pressure": 0.08}, ORANGE),
        (K.HYDRANT, {"pressure": 0.01}, RED),
        (K.HYDRANT, {"pressure": 1.2}, YELLOW),  # water hammer: the rising rule of the same metric
        (K.HYDRANT, {"tilt": 60.0}, ORANGE),
        (K.HYDRANT, {"flow": True}, YELLOW),
        (K.HYDRANT, {"cover_open": True}, BLUE),
        (K.HYDRANT, {"pressure": True}, NONE),  # a flag where a number belongs is not a number
    ],
)
def test_deserved(kind: KindName, values: dict[str, float | bool], level: Level) -> None:
    assert deserved(kind, values) == level


@pytest.mark.parametrize(
    ("levels", "two_red", "several_orange"),
    [
        ([], NONE, NONE),
        ([NONE, NONE, NONE], NONE, NONE),
        ([YELLOW], YELLOW, YELLOW),
        ([ORANGE], ORANGE, ORANGE),
        ([YELLOW, NONE], YELLOW, YELLOW),  # one hydrant low: could be its gauge
        ([YELLOW, BLUE, NONE], YELLOW, ORANGE),  # two hydrants low: a burst, whatever each says
        ([BLUE, BLUE, NONE], BLUE, ORANGE),
        ([ORANGE, YELLOW], ORANGE, ORANGE),
        ([ORANGE, ORANGE], RED, ORANGE),  # two detectors in alarm: red
        ([ORANGE, RED, NONE], RED, RED),
        ([RED], RED, RED),
    ],
)
def test_combine(levels: list[Level], two_red: Level, several_orange: Level) -> None:
    assert strongest(levels) == max(levels, default=NONE)
    assert two_detectors_red(levels) == two_red
    assert several_hydrants_orange(levels) == several_orange


def _fire(rooms: dict[str, SmokeRoom]) -> Track:
    models: dict[str, PhysicalModel] = dict(rooms)
    return Track("kitchen_fire", Hazard.FIRE, K.SMOKE, PLACE, models, fire_smoke,
                 gateways=("gw",), combine=two_detectors_red)  # fmt: skip


def test_a_track_is_a_hazard_from_the_first_warning_to_the_last() -> None:
    rooms = {"a": SmokeRoom(), "b": SmokeRoom(), "c": SmokeRoom()}  # c: no smoke ever
    track = _fire(rooms)
    smoke = [(0, 0), (0.04, 0), (0.05, 0), (0.3, 0.01), (0.3, 0.3), (0.02, 0.1), (0, 0), (0, 0)]
    for t, (a, b) in enumerate(smoke):
        rooms["a"].fire_db_m, rooms["b"].fire_db_m = a, b
        rooms["b"].cooking_db_m = 5.0  # cooking is not the fire's smoke
        track.observe(t * 1000)
    assert (track.first_ms, track.last_ms, track.peak) == (2000, 5000, RED)
    record = track.record(end_ms=9000, still=False)
    assert record is not None
    assert (record.start_ms, record.end_ms, record.level) == (2000, 5000, RED)
    assert (record.community, record.building) == ("c", "b1")
    assert record.sensors == ("a", "b")  # those that saw it
    still = track.record(end_ms=9000, still=True)
    assert still is not None
    assert still.end_ms == 9000


def test_records_keep_hazards_only_and_run_those_still_on_to_the_end() -> None:
    quiet, late, early = (_fire({"a": SmokeRoom()}) for _ in range(3))
    late.first_ms, late.last_ms, late.peak = 1000, 9000, ORANGE
    early.first_ms, early.last_ms, early.peak = 1000, 5000, ORANGE
    out = records([quiet, late, early], end_ms=10_000, tick_ms=1000)
    assert [(r.start_ms, r.end_ms) for r in out] == [(1000, 10_000), (1000, 5000)]


def test_kitchen_fire_starts_when_the_smouldering_smoke_first_deserves_a_warning() -> None:
    """Smoke grows as 2.5 dB/m × (t / 3600 s)² from the 8th minute; the first tick at or above
    the kind table's lowest smoke step (yellow, 0.05 dB/m) is the start of the fire."""
    tape = shipped("kitchen-fire", 1)
    (fire,) = hazards(tape)
    lowest = get_kind(K.SMOKE).thresholds[0].steps[0]
    assert lowest.level is YELLOW
    tick = tape.scenario.tick
    grown_s = SMOULDERING_UNTENABLE_S * math.sqrt(lowest.value / UNTENABLE_DB_M)
    assert fire.start_ms == at(tape, 8 * 60 + math.ceil(grown_s / tick) * tick)


def _fire_scenario(*levels: str | None) -> list[dict[str, object]]:
    steps: list[dict[str, object]] = []
    for n, (stage, level) in enumerate(zip(("smouldering", "flaming"), levels, strict=False)):
        step: dict[str, object] = {"at": f"{2 + 8 * n}m", "do": "fire", "stage": stage}
        if level is not None:
            step["level"] = level
        steps.append(step)
    return steps


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ((None, None), RED),
        (("yellow", None), YELLOW),
        ((None, "orange"), ORANGE),  # a later step of the same fire
        (("blue", "yellow"), YELLOW),  # the last declared
    ],
)
def test_a_declared_level_overrides_the_physics(
    levels: tuple[str | None, str | None], expected: Level
) -> None:
    tape = compile_tape(scenario(*_fire_scenario(*levels)), 2)
    (fire,) = hazards(tape)
    assert fire.level == expected
    assert fire.what == "building_fire"


def test_the_fire_is_in_the_building_with_the_most_detectors() -> None:
    tape = compile_tape(scenario(*_fire_scenario(None, None)), 2)
    (fire,) = hazards(tape)
    building, detectors = Targets(tape.city).smoke_building(Place())
    assert fire.building == building
    assert fire.sensors == tuple(sorted(s.id for s in detectors))

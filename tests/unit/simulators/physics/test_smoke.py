from __future__ import annotations

import random
from itertools import pairwise

import pytest

from simulators.physics.smoke import TRIP_DB_M, UNTENABLE_DB_M, SmokeRoom, SmokeSource


def seconds_until(model: SmokeRoom, done: float, limit_s: int = 7200) -> int:
    for t in range(1, limit_s + 1):
        model.step(1)
        if model.density_db_m >= done:
            return t
    raise AssertionError(f"density never reached {done} dB/m in {limit_s} s")


def test_clean_air_stays_clean() -> None:
    model = SmokeRoom()
    for _ in range(3600):
        model.step(1)
    assert model.density_db_m == 0.0
    reading = model.read(random.Random(3))
    assert reading["smoke"] is False
    assert 0.0 <= reading["smoke_density"] < 0.05


def test_flaming_trips_within_a_minute_or_two_and_is_untenable_near_three() -> None:
    model = SmokeRoom(source=SmokeSource.FLAMING)
    trip_s = seconds_until(model, TRIP_DB_M)
    assert 20 <= trip_s <= 120
    assert model.read(random.Random(1))["smoke"] is True
    assert 150 <= trip_s + seconds_until(model, UNTENABLE_DB_M) <= 210


def test_smouldering_rises_slowly_over_tens_of_minutes() -> None:
    smoulder = SmokeRoom(source=SmokeSource.SMOULDERING)
    trip_s = seconds_until(smoulder, TRIP_DB_M)
    assert 10 * 60 <= trip_s <= 40 * 60
    flaming = seconds_until(SmokeRoom(source=SmokeSource.FLAMING), TRIP_DB_M)
    assert trip_s > 5 * flaming


def test_smouldering_that_bursts_into_flame_keeps_its_smoke() -> None:
    model = SmokeRoom(source=SmokeSource.SMOULDERING)
    for _ in range(600):
        model.step(1)
    before = model.density_db_m
    model.source = SmokeSource.FLAMING
    model.step(1)
    assert model.density_db_m >= before


def test_cooking_bump_trips_briefly_at_most_and_decays() -> None:
    model = SmokeRoom(source=SmokeSource.COOKING)
    series, alarms = [], 0
    for t in range(12 * 60):
        if t == 120:
            model.source = SmokeSource.NONE
        model.step(1)
        series.append(model.density_db_m)
        alarms += model.alarm
    assert alarms <= 120
    assert max(series) < 2 * TRIP_DB_M
    assert all(b < a for a, b in pairwise(series[121:]))
    assert series[-1] < 0.01


def test_smoke_clears_after_the_fire_is_out() -> None:
    model = SmokeRoom(source=SmokeSource.FLAMING)
    seconds_until(model, UNTENABLE_DB_M)
    model.source = SmokeSource.NONE
    for _ in range(2 * 3600):
        model.step(1)
    assert not model.alarm


def test_bad_trip_level_is_refused() -> None:
    with pytest.raises(ValueError, match="trip_db_m"):
        SmokeRoom(trip_db_m=0)

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from simulators.physics.gas import (
    HOUSEHOLD_ALARM_LEL,
    KITCHEN,
    UTILITY_ALARM_LEL,
    GasLeak,
    Space,
)


def per_minute(model: GasLeak, minutes: int) -> list[float]:
    out = []
    for _ in range(minutes):
        model.step(60)
        out.append(model.sensed_lel)
    return out


def test_no_leak_reads_clean_air() -> None:
    model = GasLeak()
    assert per_minute(model, 60) == [0.0] * 60
    assert model.read(random.Random(2))["gas"] is False


def test_leak_in_a_ventilated_room_levels_off_at_its_equilibrium() -> None:
    model = GasLeak(leak_l_per_min=10)
    series = per_minute(model, 4 * 60)
    equilibrium = KITCHEN.equilibrium_lel(10)
    assert all(b >= a for a, b in pairwise(series))
    assert series[-1] == pytest.approx(equilibrium, rel=0.01)
    assert series[-1] - series[-61] < 0.05 * equilibrium  # flat over the last hour
    assert model.alarm is (equilibrium >= HOUSEHOLD_ALARM_LEL)


def test_leak_in_a_pipe_well_keeps_rising() -> None:
    model = GasLeak.in_pipe_well()
    model.leak_l_per_min = 10
    series = per_minute(model, 60)
    rises = [b - a for a, b in pairwise(series)]
    assert all(r > 0 for r in rises)
    assert rises[-1] > 0.9 * rises[0]  # no sign of levelling off
    assert series[-1] > 2 * KITCHEN.equilibrium_lel(10)
    assert model.alarm_lel == UTILITY_ALARM_LEL
    assert model.alarm


def test_spray_spikes_then_decays_within_minutes() -> None:
    model = GasLeak(spraying=True)
    model.step(5)
    spike = model.sensed_lel
    assert model.alarm  # the false alarm DOMAIN.md warns about
    model.spraying = False
    series = per_minute(model, 5)
    assert all(b < a for a, b in pairwise([spike, *series]))
    assert series[1] < 1.0
    assert not model.alarm


def test_an_aged_sensor_reads_high() -> None:
    fresh, aged = GasLeak(leak_l_per_min=5), GasLeak(leak_l_per_min=5, sensitivity=1.5)
    per_minute(fresh, 60)
    per_minute(aged, 60)
    assert aged.sensed_lel == pytest.approx(1.5 * fresh.sensed_lel)


def test_bad_spaces_are_refused() -> None:
    with pytest.raises(ValueError, match="air_changes_per_h must be > 0"):
        Space(volume_m3=10, air_changes_per_h=0)

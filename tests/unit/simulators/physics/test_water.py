from __future__ import annotations

import random
from itertools import pairwise

import pytest

from simulators.physics.water import DRAINAGE_MM_H, Waterlogging


def depths(model: Waterlogging, minutes: int) -> list[float]:
    out = []
    for _ in range(minutes):
        model.step(60)
        out.append(model.depth_cm)
    return out


@pytest.mark.parametrize("rain", [0.0, 10.0, DRAINAGE_MM_H])
def test_road_stays_dry_while_drains_keep_up(rain: float) -> None:
    model = Waterlogging(rain_mm_h=rain)
    assert depths(model, 120) == [0.0] * 120
    rng = random.Random(1)
    assert all(model.read(rng) == {"depth": 0.0, "water_leak": False} for _ in range(50))


def test_depth_rises_several_cm_per_minute_once_drains_are_overwhelmed() -> None:
    model = Waterlogging(rain_mm_h=2 * DRAINAGE_MM_H)
    series = depths(model, 15)
    assert all(b > a for a, b in pairwise(series))
    per_minute = [b - a for a, b in pairwise([0.0, *series])]
    assert all(2.0 <= r <= 6.0 for r in per_minute)  # the kinds table's rate rule is 2 cm/min
    assert model.read(random.Random(1))["water_leak"] is True


def test_heavier_rain_rises_faster() -> None:
    light, heavy = Waterlogging(rain_mm_h=45), Waterlogging(rain_mm_h=90)
    assert depths(light, 5)[-1] < depths(heavy, 5)[-1]


def test_recession_after_rain_is_slower_than_the_rise() -> None:
    model = Waterlogging(rain_mm_h=2 * DRAINAGE_MM_H)
    rise = depths(model, 10)
    peak = rise[-1]
    model.rain_mm_h = 0.0
    fall = depths(model, 600)
    assert all(b <= a for a, b in pairwise(fall))
    minutes_to_dry = fall.index(0.0) + 1
    assert minutes_to_dry > 3 * 10
    assert peak - fall[0] < rise[0]  # the first minute of recession loses less than one of rise
    assert model.read(random.Random(1)) == {"depth": 0.0, "water_leak": False}


def test_step_size_does_not_change_the_physics_while_rising() -> None:
    a, b = Waterlogging(rain_mm_h=70), Waterlogging(rain_mm_h=70)
    for _ in range(600):
        a.step(1)
    b.step(600)
    assert a.depth_cm == pytest.approx(b.depth_cm)


def test_bad_parameters_and_steps_are_refused() -> None:
    with pytest.raises(ValueError, match="drainage_mm_h must be > 0"):
        Waterlogging(drainage_mm_h=0)
    with pytest.raises(ValueError, match="dt_s"):
        Waterlogging().step(-1)

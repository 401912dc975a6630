from __future__ import annotations

import random

import pytest

from simulators.physics.hydrant import Hydrant, Main, demand

MINIMUM_MPA = 0.14  # GB 55036-2022 via DOMAIN.md


def street(positions: tuple[float, ...] = (0, 120, 240, 360, 480)) -> tuple[Main, list[Hydrant]]:
    main = Main()
    return main, [Hydrant(main, position_m=x) for x in positions]


def step_all(hydrants: list[Hydrant], seconds: float, dt: float = 10) -> None:
    for _ in range(round(seconds / dt)):
        for h in hydrants:
            h.step(dt)


def test_daily_cycle_stays_typical_and_is_higher_at_night() -> None:
    hydrant, rng = Hydrant(), random.Random(7)
    by_hour: dict[int, list[float]] = {}
    for minute in range(24 * 60):
        hydrant.step(60)
        pressure = hydrant.read(rng)["pressure"]
        assert isinstance(pressure, float)
        assert 0.2 <= pressure <= 0.45
        by_hour.setdefault((minute + 1) // 60 % 24, []).append(pressure)
    mean = {h: sum(v) / len(v) for h, v in by_hour.items()}
    assert mean[3] > mean[8] + 0.05
    assert mean[3] > mean[20] + 0.05


def test_demand_is_a_fraction() -> None:
    assert all(0.0 <= demand(h / 10) <= 1.0 for h in range(240))


def test_burst_takes_every_hydrant_of_the_main_below_the_minimum() -> None:
    main, hydrants = street()
    main.start_hour = 3.0  # night: the highest pressure, the hardest case
    step_all(hydrants, 600)
    assert all(h.pressure_mpa > 0.3 for h in hydrants)
    main.burst_at_m = 200
    step_all(hydrants, 60)
    pressures = [h.pressure_mpa for h in hydrants]
    assert all(p < MINIMUM_MPA for p in pressures)
    assert min(pressures) == hydrants[2].pressure_mpa  # nearest the burst drops the most


def test_a_burst_does_not_reach_another_main() -> None:
    main_a, on_a = street()
    _, on_b = street()
    main_a.burst_at_m = 0
    step_all([*on_a, *on_b], 120)
    assert all(h.pressure_mpa < MINIMUM_MPA for h in on_a)
    assert all(h.pressure_mpa > 0.2 for h in on_b)


def test_shared_main_is_advanced_once_per_instant() -> None:
    main, hydrants = street()
    step_all(hydrants, 3600, dt=60)
    assert main.elapsed_s == 3600


def test_repaired_main_recovers() -> None:
    main, hydrants = street()
    main.burst_at_m = 100
    step_all(hydrants, 120)
    main.burst_at_m = None
    step_all(hydrants, 300)
    assert all(h.pressure_mpa > 0.3 for h in hydrants)


def test_illegal_use_shows_flow_and_a_local_dip() -> None:
    _, (a, b) = street((0, 120))
    step_all([a, b], 60)
    before = a.pressure_mpa
    a.flowing = True
    step_all([a, b], 20)
    reading = a.read(random.Random(1))
    assert reading["flow"] is True
    assert a.pressure_mpa < before - 0.03
    assert b.read(random.Random(1))["flow"] is False


def test_collision_tilts_beyond_the_alarm_band_and_cover_open_is_reported() -> None:
    hydrant, rng = Hydrant(), random.Random(5)
    upright = hydrant.read(rng)["tilt"]
    assert isinstance(upright, float)
    assert upright < 5
    hydrant.collided, hydrant.cover_open = True, True
    reading = hydrant.read(rng)
    assert isinstance(reading["tilt"], float)
    assert reading["tilt"] > 45
    assert reading["cover_open"] is True


def test_day_pressure_above_night_is_refused() -> None:
    with pytest.raises(ValueError, match="day_peak_mpa"):
        Main(night_mpa=0.3, day_peak_mpa=0.4)

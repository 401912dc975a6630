from __future__ import annotations

import pytest

from streetwatch.units import (
    METHANE_LEL_PERCENT_VOL,
    Unit,
    UnitError,
    accepted_units,
    convert,
    db_per_m_to_obscuration,
    is_convertible,
)


@pytest.mark.parametrize(
    ("value", "source", "to", "expected"),
    [
        (150.0, "mm", Unit.CM, 15.0),
        (0.0, "mm", Unit.CM, 0.0),
        (0.3, "m", Unit.CM, 30.0),
        (1.25, "m", Unit.CM, 125.0),
        (140.0, "kPa", Unit.MPA, 0.14),
        (1.4, "bar", Unit.MPA, 0.14),
        (10.0, "bar", Unit.MPA, 1.0),
        (100.0, "psi", Unit.MPA, 0.6894757),
        (500.0, "ppm", Unit.PERCENT_LEL, 1.0),
        (5000.0, "ppm", Unit.PERCENT_LEL, 10.0),
        (50000.0, "ppm", Unit.PERCENT_LEL, 100.0),
        (5.0, "%vol", Unit.PERCENT_LEL, 100.0),
        (1.0, "%vol", Unit.PERCENT_LEL, 20.0),
        (3000.0, "mV", Unit.VOLT, 3.0),
        (212.0, "degF", Unit.CELSIUS, 100.0),
        (32.0, "degF", Unit.CELSIUS, 0.0),
        (900.0, "L/min", Unit.LITRE_PER_S, 15.0),
        (36.0, "m3/h", Unit.LITRE_PER_S, 10.0),
    ],
)
def test_conversions(value: float, source: str, to: Unit, expected: float) -> None:
    assert convert(value, source, to) == pytest.approx(expected)


def test_methane_lel_is_five_percent_by_volume() -> None:
    assert METHANE_LEL_PERCENT_VOL == 5.0
    # 1 %LEL = 500 ppm, and 100 %LEL = 5 %vol = 50 000 ppm, both ways of getting there agree.
    assert convert(50_000, "ppm", Unit.PERCENT_LEL) == convert(5, "%vol", Unit.PERCENT_LEL)


@pytest.mark.parametrize(
    ("percent_per_m", "db_per_m"),
    [(0.0, 0.0), (5.0, 0.2228), (1.14, 0.05), (50.0, 3.0103), (90.0, 10.0)],
)
def test_obscuration_to_db_per_m(percent_per_m: float, db_per_m: float) -> None:
    assert convert(percent_per_m, "%/m", Unit.DB_PER_M) == pytest.approx(db_per_m, abs=1e-3)
    assert db_per_m_to_obscuration(db_per_m) == pytest.approx(percent_per_m, abs=1e-2)


def test_five_percent_per_metre_is_about_0_223_db() -> None:
    # DOMAIN.md: home alarms trip near 5 %/m ≈ 0.23 dB/m (NIST TN 1455-1).
    assert convert(5.0, "%/m", Unit.DB_PER_M) == pytest.approx(0.223, abs=5e-4)


@pytest.mark.parametrize("percent_per_m", [0.0, 0.5, 5.0, 17.3, 63.0, 99.0])
def test_obscuration_round_trip(percent_per_m: float) -> None:
    db = convert(percent_per_m, "%/m", Unit.DB_PER_M)
    assert db_per_m_to_obscuration(db) == pytest.approx(percent_per_m)


@pytest.mark.parametrize("percent_per_m", [-1.0, 100.0, 150.0])
def test_impossible_obscuration_is_refused(percent_per_m: float) -> None:
    with pytest.raises(ValueError, match=r"outside 0\.\.100"):
        convert(percent_per_m, "%/m", Unit.DB_PER_M)


@pytest.mark.parametrize("unit", list(Unit))
def test_identity(unit: Unit) -> None:
    assert convert(12.5, unit.value, unit) == 12.5
    assert is_convertible(unit.value, unit)


@pytest.mark.parametrize(
    ("source", "to"),
    [
        ("kPa", Unit.CM),
        ("ppm", Unit.MPA),
        ("cm", Unit.MPA),
        ("MPa", Unit.CM),
        ("furlong", Unit.CM),
        ("%", Unit.PERCENT_LEL),
        ("KPA", Unit.MPA),
        ("", Unit.CM),
    ],
)
def test_unconvertible_pair_lists_accepted_units(source: str, to: Unit) -> None:
    assert not is_convertible(source, to)
    with pytest.raises(UnitError) as info:
        convert(1.0, source, to)
    message = str(info.value)
    assert repr(source) in message
    for accepted in accepted_units(to):
        assert accepted in message


def test_unit_error_is_a_value_error() -> None:
    assert issubclass(UnitError, ValueError)


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        (Unit.CM, {"cm", "mm", "m"}),
        (Unit.MPA, {"MPa", "kPa", "bar", "psi"}),
        (Unit.PERCENT_LEL, {"%LEL", "ppm", "%vol"}),
        (Unit.DB_PER_M, {"dB/m", "%/m"}),
        (Unit.FLAG, {"flag"}),
    ],
)
def test_accepted_units(to: Unit, expected: set[str]) -> None:
    accepted = accepted_units(to)
    assert accepted[0] == to.value
    assert set(accepted) == expected

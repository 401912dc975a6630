from __future__ import annotations

import dataclasses
import itertools
from types import MappingProxyType
from typing import Any

import pytest

from streetwatch.anomalies import AnomalyType
from streetwatch.kinds import (
    HYDRANT,
    KINDS,
    TEST_BUTTON,
    WATER_LEVEL,
    Direction,
    Ecosystem,
    FieldMap,
    FlagRule,
    KindName,
    RateRule,
    SensorKind,
    Threshold,
    ThresholdRule,
    get_kind,
    kind_problems,
)
from streetwatch.levels import Level
from streetwatch.units import Unit, is_convertible

ALL_KINDS = list(KINDS.values())
KIND_IDS = [str(k.name) for k in ALL_KINDS]
every_kind = pytest.mark.parametrize("kind", ALL_KINDS, ids=KIND_IDS)


def _rules() -> list[tuple[SensorKind, ThresholdRule]]:
    return [(kind, rule) for kind in ALL_KINDS for rule in kind.thresholds]


every_rule = pytest.mark.parametrize(
    ("kind", "rule"), _rules(), ids=[f"{k.name}-{r.metric}-{r.direction}" for k, r in _rules()]
)


def test_the_required_kinds_exist() -> None:
    for name in ("smoke", "water_level", "hydrant", "gas"):
        assert get_kind(name).name == name


def test_table_is_keyed_by_name() -> None:
    assert set(KINDS) == set(KindName)
    for name, kind in KINDS.items():
        assert kind.name is name


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(KeyError) as info:
        get_kind("nope")
    message = str(info.value)
    assert "'nope'" in message
    for name in KindName:
        assert name.value in message


@every_kind
def test_kind_has_no_problems(kind: SensorKind) -> None:
    assert kind_problems(kind) == []


@every_kind
def test_metric_names_are_unique_and_primary_is_numeric(kind: SensorKind) -> None:
    assert len(set(kind.metric_names)) == len(kind.metric_names)
    primary = kind.metric(kind.primary)
    assert not primary.is_flag
    assert primary.low < primary.high


@every_rule
def test_every_threshold_is_inside_the_physical_range(
    kind: SensorKind, rule: ThresholdRule
) -> None:
    metric = kind.metric(rule.metric)
    assert not metric.is_flag
    for step in rule.steps:
        assert metric.low <= step.value <= metric.high, (kind.name, step)


@every_rule
def test_thresholds_are_strictly_ordered(kind: SensorKind, rule: ThresholdRule) -> None:
    assert rule.steps, "a threshold rule needs at least one step"
    assert all(step.level is not Level.NONE for step in rule.steps)
    for a, b in itertools.pairwise(rule.steps):
        assert a.level < b.level
        if rule.direction is Direction.RISING:
            assert a.value < b.value
        else:
            assert a.value > b.value


@every_rule
def test_every_threshold_names_its_source(kind: SensorKind, rule: ThresholdRule) -> None:
    for step in rule.steps:
        assert step.source.strip(), (kind.name, rule.metric, step.level)
    assert rule.zh.strip()


@every_rule
def test_hysteresis_fits_between_thresholds(kind: SensorKind, rule: ThresholdRule) -> None:
    # Clearing a level must not jump over the level below, nor leave the physical range.
    metric = kind.metric(rule.metric)
    assert rule.hysteresis > 0
    for a, b in itertools.pairwise(rule.steps):
        assert rule.hysteresis < abs(b.value - a.value)
    for step in rule.steps:
        clear = step.value - rule.hysteresis
        if rule.direction is Direction.FALLING:
            clear = step.value + rule.hysteresis
        assert metric.in_range(clear)


@every_kind
def test_falling_and_rising_rules_on_one_metric_do_not_overlap(kind: SensorKind) -> None:
    for name in kind.metric_names:
        rules = kind.threshold_rules(name)
        falling = [s.value for r in rules if r.direction is Direction.FALLING for s in r.steps]
        rising = [s.value for r in rules if r.direction is Direction.RISING for s in r.steps]
        if falling and rising:
            assert max(falling) < min(rising)


@every_kind
def test_rates_and_flags_name_their_source(kind: SensorKind) -> None:
    for rate in kind.rates:
        assert rate.source.strip()
        assert rate.window_s > 0
        assert rate.per_minute != 0
        assert not kind.metric(rate.metric).is_flag
        assert rate.level < rate.below_level
    for flag in kind.flags:
        assert flag.source.strip()
        assert flag.persist_s >= 0
    assert kind.timing_source.strip()


@every_kind
def test_offline_after_is_longer_than_the_report_interval(kind: SensorKind) -> None:
    assert 0 < kind.report_interval_s < kind.offline_after_s


@every_kind
def test_every_flag_rule_refers_to_a_flag_metric(kind: SensorKind) -> None:
    for rule in kind.flags:
        assert kind.has_metric(rule.flag), rule.flag
        assert kind.metric(rule.flag).is_flag
        assert kind.metric(rule.flag).unit is Unit.FLAG


@every_kind
def test_self_test_never_pages(kind: SensorKind) -> None:
    for rule in kind.flags:
        if rule.anomaly is AnomalyType.SELF_TEST:
            assert rule.level is Level.NONE
            assert not rule.anomaly.pages_responders


@every_kind
def test_a_test_button_is_read_in_every_ecosystem_of_its_kind(kind: SensorKind) -> None:
    """Without it a test press reaches the edge as a bare alarm flag: a real alarm."""
    if not kind.has_metric("self_test"):
        return
    for ecosystem, maps in kind.ecosystems.items():
        paths = tuple(fm.path for fm in maps if fm.metric == "self_test")
        assert paths == TEST_BUTTON[ecosystem], ecosystem


@every_kind
def test_every_field_map_refers_to_a_metric_in_a_convertible_unit(kind: SensorKind) -> None:
    for ecosystem, maps in kind.ecosystems.items():
        assert isinstance(ecosystem, Ecosystem)
        assert maps, f"{kind.name}: {ecosystem} has an empty field map"
        for fm in maps:
            assert kind.has_metric(fm.metric), (ecosystem, fm)
            assert fm.path
            if fm.unit is not None:
                assert is_convertible(fm.unit, kind.metric(fm.metric).unit), (ecosystem, fm)


@every_kind
def test_field_paths_are_unique_per_ecosystem(kind: SensorKind) -> None:
    for maps in kind.ecosystems.values():
        paths = [fm.path for fm in maps]
        assert len(set(paths)) == len(paths)


@pytest.mark.parametrize(
    ("value", "level"),
    [
        (0, Level.NONE),
        (14, Level.NONE),
        (14.99, Level.NONE),
        (15, Level.BLUE),
        (24.9, Level.BLUE),
        (25, Level.YELLOW),
        (29.9, Level.YELLOW),
        (30, Level.ORANGE),
        (49.9, Level.ORANGE),
        (50, Level.RED),
        (60, Level.RED),
        (500, Level.RED),
    ],
)
def test_water_depth_levels(value: float, level: Level) -> None:
    (rule,) = WATER_LEVEL.threshold_rules("depth")
    assert rule.level_of(value) is level


def _hydrant_rule(direction: Direction) -> ThresholdRule:
    (rule,) = (r for r in HYDRANT.threshold_rules("pressure") if r.direction is direction)
    return rule


@pytest.mark.parametrize(
    ("value", "level"),
    [
        (0.4, Level.NONE),
        (0.3, Level.NONE),
        (0.15, Level.NONE),
        (0.14, Level.YELLOW),
        (0.11, Level.YELLOW),
        (0.10, Level.ORANGE),
        (0.09, Level.ORANGE),
        (0.05, Level.RED),
        (0.04, Level.RED),
        (0.0, Level.RED),
    ],
)
def test_hydrant_low_pressure_levels(value: float, level: Level) -> None:
    assert _hydrant_rule(Direction.FALLING).level_of(value) is level


@pytest.mark.parametrize(
    ("value", "level"),
    [(0.3, Level.NONE), (0.99, Level.NONE), (1.0, Level.YELLOW), (2, Level.YELLOW)],
)
def test_hydrant_high_pressure_levels(value: float, level: Level) -> None:
    assert _hydrant_rule(Direction.RISING).level_of(value) is level


@pytest.mark.parametrize(
    ("value", "level"),
    [(5, Level.NONE), (9.9, Level.NONE), (10, Level.YELLOW), (25, Level.ORANGE), (80, Level.RED)],
)
def test_gas_levels(value: float, level: Level) -> None:
    (rule,) = get_kind("gas").threshold_rules("lel")
    assert rule.level_of(value) is level


# ---------------------------------------------------------------------------------------------
# Records that must not be buildable.


def _depth_rule(*steps: tuple[Level, float]) -> ThresholdRule:
    return ThresholdRule(
        "depth",
        Direction.RISING,
        tuple(Threshold(level, value, "test") for level, value in steps),
        hysteresis=1,
        zh="积水深度",
    )


def _broken(**changes: Any) -> str:
    """The ValueError message when building WATER_LEVEL with ``changes``."""
    with pytest.raises(ValueError, match="sensor kind water_level") as info:
        dataclasses.replace(WATER_LEVEL, **changes)
    return str(info.value)


def test_a_valid_replacement_builds() -> None:
    kind = dataclasses.replace(
        WATER_LEVEL, thresholds=(_depth_rule((Level.BLUE, 10), (Level.RED, 40)),)
    )
    assert kind.threshold_rules("depth")[0].level_of(40) is Level.RED


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"thresholds": (_depth_rule((Level.BLUE, 15), (Level.RED, 600)),)},
            "outside the physical",
        ),
        ({"thresholds": (_depth_rule((Level.BLUE, -1)),)}, "outside the physical"),
        ({"thresholds": (_depth_rule((Level.BLUE, 30), (Level.RED, 20)),)}, "out of order"),
        ({"thresholds": (_depth_rule((Level.BLUE, 30), (Level.RED, 30)),)}, "out of order"),
        ({"thresholds": (_depth_rule((Level.RED, 15), (Level.BLUE, 30)),)}, "levels must go up"),
        ({"thresholds": (_depth_rule((Level.RED, 15), (Level.RED, 30)),)}, "levels must go up"),
        ({"thresholds": (_depth_rule((Level.NONE, 15)),)}, "cannot have level 'none'"),
        (
            {
                "thresholds": (
                    ThresholdRule(
                        "water_leak",
                        Direction.RISING,
                        (Threshold(Level.RED, 1, "t"),),
                        hysteresis=0,
                        zh="x",
                    ),
                )
            },
            "not a numeric metric",
        ),
        (
            {"thresholds": (ThresholdRule("volume", Direction.RISING, (), hysteresis=0, zh="x"),)},
            "not a numeric metric",
        ),
        (
            {"rates": (RateRule("water_leak", 1, 60, Level.BLUE, "t", Level.YELLOW),)},
            "rate rule on 'water_leak'",
        ),
        (
            {"flags": (FlagRule("depth", AnomalyType.ALARM_FLAG, Level.RED, 0, "t"),)},
            "flag rule on 'depth'",
        ),
        (
            {"flags": (FlagRule("smoke", AnomalyType.ALARM_FLAG, Level.RED, 0, "t"),)},
            "flag rule on 'smoke'",
        ),
        (
            {"ecosystems": MappingProxyType({Ecosystem.JSON: (FieldMap("x", "volume", None),)})},
            "maps to unknown 'volume'",
        ),
        ({"offline_after_s": 60}, "offline_after_s must be longer"),
        ({"report_interval_s": 0}, "offline_after_s must be longer"),
        ({"primary": "volume"}, "primary metric 'volume'"),
        ({"metrics": (*WATER_LEVEL.metrics, WATER_LEVEL.metrics[0])}, "duplicate metric names"),
    ],
)
def test_inconsistent_kinds_cannot_be_built(changes: dict[str, Any], expected: str) -> None:
    assert expected in _broken(**changes)


def test_falling_rule_out_of_order_says_lower() -> None:
    rule = ThresholdRule(
        "pressure",
        Direction.FALLING,
        (Threshold(Level.YELLOW, 0.10, "t"), Threshold(Level.RED, 0.14, "t")),
        hysteresis=0.01,
        zh="x",
    )
    with pytest.raises(ValueError, match="must be lower than") as info:
        dataclasses.replace(HYDRANT, thresholds=(rule,))
    assert "sensor kind hydrant" in str(info.value)


def test_all_problems_are_reported_together() -> None:
    message = _broken(
        thresholds=(_depth_rule((Level.RED, 600), (Level.BLUE, 15)),), offline_after_s=1
    )
    assert "outside the physical" in message
    assert "levels must go up" in message
    assert "out of order" in message
    assert "offline_after_s" in message


def test_unknown_metric_lists_the_known_ones() -> None:
    with pytest.raises(KeyError) as info:
        WATER_LEVEL.metric("volume")
    assert "depth" in str(info.value)
    assert "water_leak" in str(info.value)

"""Warning levels and the kind table's thresholds, as Grafana colours, steps and mappings.

A severity is a level's rank (0 none ... 4 red), which is what the hub stores as ``severity``;
the four warning colours are Grafana's named colours of the same English names, and a level of
none is green. Thresholds on a metric come from ``streetwatch.kinds``, never typed in again.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import ThresholdsConfig
from grafana_foundation_sdk.models.dashboard import (
    DynamicConfigValue,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMapping,
    ValueMappingResult,
)

from streetwatch.kinds import KINDS, Direction, KindName
from streetwatch.levels import Level
from streetwatch.units import Unit

__all__ = [
    "kind_steps",
    "level_colour",
    "level_label",
    "level_mappings",
    "level_steps",
    "severity_properties",
    "steps_config",
    "thresholds_text",
    "unit_of",
]

_NONE_COLOUR = "green"


def level_colour(level: Level) -> str:
    """Grafana's colour for a level: ``blue``, ``yellow``, ``orange``, ``red``; none is green."""
    return _NONE_COLOUR if level is Level.NONE else level.info.en


def level_label(level: Level) -> str:
    """``"红色 red"``, ``"正常 normal"``: what a severity reads as on a panel."""
    info = level.info
    return f"{info.zh_grade} {info.en}" if level is Level.NONE else f"{info.zh} {info.en}"


def level_steps() -> list[Threshold]:
    """Severity steps: 0 green, 1 blue, 2 yellow, 3 orange, 4 red."""
    steps = [Threshold(None, level_colour(Level.NONE))]
    steps += [Threshold(lv.rank, level_colour(lv)) for lv in Level if lv is not Level.NONE]
    return steps


def level_mappings() -> list[ValueMapping]:
    """Severity 0..4 shown as its level's name, in its colour."""
    options = {
        str(lv.rank): ValueMappingResult(text=level_label(lv), color=level_colour(lv), index=i)
        for i, lv in enumerate(Level)
    }
    return [ValueMap(options)]


def severity_properties() -> list[DynamicConfigValue]:
    """Override properties for a ``severity`` field among others (a map's lat, lon, counts):
    coloured by level and shown as the level's name."""
    return [
        DynamicConfigValue("thresholds", steps_config(level_steps()).build()),
        DynamicConfigValue("mappings", level_mappings()),
        DynamicConfigValue("color", {"mode": "thresholds"}),
    ]


def kind_steps(kind: KindName, metric: str) -> list[Threshold]:
    """The kind table's thresholds on ``metric`` as ascending Grafana steps.

    Rising and falling rules on one metric (hydrant pressure too low, too high) combine: each
    range between two thresholds takes the highest level any rule gives it.
    """
    rules = KINDS[kind].threshold_rules(metric)
    if not rules:
        raise ValueError(f"the kind table has no thresholds on {kind} {metric}")
    bounds = sorted({step.value for rule in rules for step in rule.steps})

    def colour_at(value: float) -> str:
        return level_colour(max(rule.level_of(value) for rule in rules))

    uppers = [*bounds[1:], bounds[-1] + 1]
    steps = [Threshold(None, colour_at(bounds[0] - 1))]
    for low, high in zip(bounds, uppers, strict=True):
        colour = colour_at((low + high) / 2)
        if colour != steps[-1].color:
            steps.append(Threshold(low, colour))
    return steps


def thresholds_text(kind: KindName, metric: str) -> tuple[str, str]:
    """The kind table's thresholds on ``metric`` in words, Chinese and English:
    ``("蓝色 ≥ 15 cm，黄色 ≥ 25 cm…", "blue ≥ 15 cm, yellow ≥ 25 cm…")``."""
    unit = KINDS[kind].metric(metric).unit.value
    zh, en = [], []
    for rule in KINDS[kind].threshold_rules(metric):
        sign = "≥" if rule.direction is Direction.RISING else "≤"
        for step in rule.steps:
            zh.append(f"{step.level.info.zh} {sign} {step.value:g} {unit}")
            en.append(f"{step.level.info.en} {sign} {step.value:g} {unit}")
    return "，".join(zh), ", ".join(en)


def steps_config(steps: list[Threshold]) -> ThresholdsConfig:
    return ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps)


def unit_of(kind: KindName, metric: str) -> str:
    """The Grafana unit of a metric of the kind table (a suffix where Grafana has none)."""
    unit = KINDS[kind].metric(metric).unit
    if unit is Unit.PERCENT:
        return "percent"
    return f"suffix: {unit.value}"

"""Levels and the kind table as Grafana colours, steps and words."""

from __future__ import annotations

import pytest

from dashboards.levels import kind_steps, level_colour, level_label, thresholds_text, unit_of
from streetwatch.kinds import KindName
from streetwatch.levels import Level


def test_level_colours_are_grafanas_names() -> None:
    assert [level_colour(lv) for lv in Level] == ["green", "blue", "yellow", "orange", "red"]
    assert level_label(Level.RED) == "红色 red"
    assert level_label(Level.NONE) == "正常 normal"


def test_gas_steps_and_words() -> None:
    assert [(s.value, s.color) for s in kind_steps(KindName.GAS, "lel")] == [
        (None, "green"),
        (10, "yellow"),
        (25, "orange"),
        (50, "red"),
    ]
    zh, en = thresholds_text(KindName.GAS, "lel")
    assert zh == "黄色 ≥ 10 %LEL，橙色 ≥ 25 %LEL，红色 ≥ 50 %LEL"
    assert en == "yellow ≥ 10 %LEL, orange ≥ 25 %LEL, red ≥ 50 %LEL"


def test_a_metric_without_thresholds_is_refused() -> None:
    with pytest.raises(ValueError, match="no thresholds on smoke battery"):
        kind_steps(KindName.SMOKE, "battery")


def test_units() -> None:
    assert unit_of(KindName.WATER_LEVEL, "depth") == "suffix: cm"
    assert unit_of(KindName.SMOKE, "battery") == "percent"

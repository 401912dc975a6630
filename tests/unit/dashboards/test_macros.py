"""Grafana's expansion of InfluxQL macros and template variables, as the query tests use it."""

from __future__ import annotations

import pytest

from dashboards.macros import Expansion, duration_ms, escape_regex, expand

VARIABLES = ("district", "street", "kind")
STATE = Expansion(1_000, 61_000, "30s")


def test_time_range_and_intervals() -> None:
    text = "WHERE $timeFilter GROUP BY time($__interval) -- $interval $__interval_ms ${__to}"
    assert expand(text, STATE, VARIABLES) == (
        "WHERE time >= 1000ms and time <= 61000ms GROUP BY time(30s) -- 30s 30000 61000"
    )


def test_all_is_any_value() -> None:
    assert expand('"street" =~ /^$street$/', STATE, VARIABLES) == '"street" =~ /^.*$/'


def test_one_value_is_escaped_and_several_are_alternatives() -> None:
    state = Expansion(0, 1, selected={"street": ["a.b"], "kind": ["smoke", "gas"]})
    assert expand("/^$street$/ /^${kind}_window$/", state, VARIABLES) == (
        r"/^a\.b$/ /^(smoke|gas)_window$/"
    )


def test_bracket_form_and_regex_specials() -> None:
    state = Expansion(0, 1, selected={"district": ["x/y(z)"]})
    assert expand("[[district]]", state, VARIABLES) == r"x\/y\(z\)"
    assert escape_regex("a|b*") == r"a\|b\*"


def test_an_unknown_name_is_refused() -> None:
    with pytest.raises(KeyError, match=r"\$kind_window is neither"):
        expand("/^$kind_window$/", STATE, VARIABLES)


def test_durations() -> None:
    assert duration_ms("5m") == 300_000
    with pytest.raises(ValueError, match="not a Grafana interval"):
        duration_ms("5 minutes")

"""InfluxQL text: places, time and grouping; template variable queries chained."""

from __future__ import annotations

import pytest

from dashboards.query import UP_TO_RANGE_END, Select, is_, matches, one_of
from dashboards.variables import VARIABLES, tag_values_query, variables


def test_a_select_filters_every_place_and_the_time_range() -> None:
    text = str(Select('max("depth")', "water_level", (is_("quality", "good"),), by=("sensor",),
                      per_interval=True, fill="none"))  # fmt: skip
    assert text == (
        'SELECT max("depth") FROM "water_level" WHERE "quality" = \'good\' AND '
        '"district" =~ /^$district$/ AND "street" =~ /^$street$/ AND '
        '"community" =~ /^$community$/ AND $timeFilter '
        'GROUP BY time($__interval), "sensor" fill(none)'
    )


def test_a_regex_source_a_narrower_area_and_the_range_end() -> None:
    text = str(Select('last("lat")', "/^${kind}_window$/", area=("street",), time=UP_TO_RANGE_END))
    assert text == (
        'SELECT last("lat") FROM /^${kind}_window$/ WHERE "street" =~ /^$street$/ AND '
        "time <= ${__to}ms"
    )


def test_conditions() -> None:
    assert matches("kind") == '"kind" =~ /^$kind$/'
    assert one_of("type", ("a", "b")) == '"type" =~ /^(a|b)$/'


def test_variable_queries_are_narrowed_by_the_earlier_ones() -> None:
    street, kind = VARIABLES[1], VARIABLES[3]
    assert tag_values_query(street, ("district",)) == (
        'SHOW TAG VALUES FROM "gateway_state" WITH KEY = "street" WHERE "district" =~ /^$district$/'
    )
    built = [v.build() for v in variables("district", "kind")]
    assert [v.name for v in built] == ["district", "kind"]
    assert built[1].query == {
        "query": tag_values_query(kind, ("district",)),
        "refId": "InfluxVariableQueryEditor-VariableQuery",
    }


def test_an_unknown_variable_is_refused() -> None:
    with pytest.raises(ValueError, match="no template variable called town"):
        variables("district", "town")

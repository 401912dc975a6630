from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from typing import Any

import pytest

from streetwatch.levels import WARNING_LEVELS, Level

ORDER = [Level.NONE, Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED]


def test_levels_are_strictly_ordered_by_severity() -> None:
    for lower, higher in itertools.pairwise(ORDER):
        assert lower < higher
        assert lower <= higher
        assert higher > lower
        assert higher >= lower
        assert not higher < lower
        assert not lower >= higher


def test_alphabetical_order_is_not_severity_order() -> None:
    # As plain strings "blue" < "none" < "orange" < "red" < "yellow".
    assert sorted([Level.RED, Level.NONE, Level.YELLOW, Level.BLUE, Level.ORANGE]) == ORDER
    assert Level.YELLOW < Level.RED
    assert Level.NONE < Level.BLUE


@pytest.mark.parametrize(
    ("levels", "most_severe"),
    [
        ([Level.BLUE, Level.RED, Level.YELLOW], Level.RED),
        ([Level.YELLOW, Level.ORANGE, Level.BLUE], Level.ORANGE),
        ([Level.NONE, Level.BLUE], Level.BLUE),
        ([Level.NONE], Level.NONE),
        ([Level.YELLOW, Level.NONE, Level.YELLOW], Level.YELLOW),
    ],
)
def test_max_is_the_most_severe(levels: list[Level], most_severe: Level) -> None:
    assert max(levels) is most_severe


def test_warning_levels_exclude_none_and_go_up() -> None:
    assert WARNING_LEVELS == (Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED)


@pytest.mark.parametrize("op", [operator.lt, operator.le, operator.gt, operator.ge])
@pytest.mark.parametrize("other", ["blue", "red", "zzz", 3, 0, None, 1.5])
def test_comparison_with_non_level_raises(op: Callable[[Any, Any], bool], other: object) -> None:
    with pytest.raises(TypeError):
        op(Level.RED, other)
    with pytest.raises(TypeError):
        op(other, Level.RED)


def test_equality_with_its_string_value() -> None:
    # A StrEnum equals its value (so it reads as "red" on the wire), and hashes alike.
    wire: str = "red"
    assert wire == Level.RED
    by_level: dict[str, int] = {Level.RED: 1}
    assert by_level[wire] == 1


@pytest.mark.parametrize(
    ("rank", "level"),
    [(0, Level.NONE), (1, Level.BLUE), (2, Level.YELLOW), (3, Level.ORANGE), (4, Level.RED)],
)
def test_from_rank(rank: int, level: Level) -> None:
    assert Level.from_rank(rank) is level
    assert level.rank == rank


@pytest.mark.parametrize("rank", [-1, 5, 100])
def test_from_rank_refuses_unknown_ranks(rank: int) -> None:
    with pytest.raises(ValueError, match=str(rank)):
        Level.from_rank(rank)


@pytest.mark.parametrize(
    ("start", "steps", "expected"),
    [
        (Level.NONE, 1, Level.BLUE),
        (Level.BLUE, 1, Level.YELLOW),
        (Level.YELLOW, 2, Level.RED),
        (Level.ORANGE, 1, Level.RED),
        (Level.RED, 1, Level.RED),
        (Level.ORANGE, 10, Level.RED),
        (Level.NONE, 4, Level.RED),
        (Level.YELLOW, 0, Level.YELLOW),
    ],
)
def test_raised_caps_at_red(start: Level, steps: int, expected: Level) -> None:
    assert start.raised(steps) is expected


def test_raised_defaults_to_one_step() -> None:
    assert Level.BLUE.raised() is Level.YELLOW


@pytest.mark.parametrize(
    ("level", "colour", "grade", "roman"),
    [
        (Level.BLUE, "蓝色", "一般", "IV"),
        (Level.YELLOW, "黄色", "较重", "III"),
        (Level.ORANGE, "橙色", "严重", "II"),
        (Level.RED, "红色", "特别严重", "I"),
    ],
)
def test_chinese_names(level: Level, colour: str, grade: str, roman: str) -> None:
    assert colour in level.zh
    assert grade in level.zh
    assert f"{roman}级" in level.zh
    assert level.roman == roman


def test_red_is_level_one_in_chinese() -> None:
    assert "红色" in Level.RED.zh
    assert "I级" in Level.RED.zh
    assert "II级" not in Level.RED.zh


def test_none_is_normal() -> None:
    assert Level.NONE.zh == "正常"
    assert Level.NONE.en == "normal"
    assert Level.NONE.roman == ""


@pytest.mark.parametrize(
    ("level", "english"),
    [
        (Level.BLUE, "blue warning (level IV)"),
        (Level.YELLOW, "yellow warning (level III)"),
        (Level.ORANGE, "orange warning (level II)"),
        (Level.RED, "red warning (level I)"),
    ],
)
def test_english_names(level: Level, english: str) -> None:
    assert level.en == english


@pytest.mark.parametrize("level", ORDER)
def test_string_value_round_trip(level: Level) -> None:
    assert Level(level.value) is level
    assert Level(str(level)) is level


@pytest.mark.parametrize(
    ("text", "level"),
    [("none", Level.NONE), ("blue", Level.BLUE), ("red", Level.RED), ("orange", Level.ORANGE)],
)
def test_from_string(text: str, level: Level) -> None:
    assert Level(text) is level


@pytest.mark.parametrize("text", ["RED", "Red", "critical", "", "I"])
def test_unknown_strings_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a valid Level"):
        Level(text)

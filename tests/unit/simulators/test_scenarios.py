"""Scenario files: durations, the timeline's checks, and problems that name the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from simulators.scenarios import builtin_scenarios, load_scenario
from simulators.scenarios.model import Scenario, SensorFault
from streetwatch.config import ConfigError
from streetwatch.kinds import KindName


def _scenario(*timeline: dict[str, Any], **fields: Any) -> Scenario:
    data = {"name": "s", "title": "S", "duration": "1h", "timeline": list(timeline)}
    return Scenario.model_validate(data | fields)


def _problems(tmp_path: Path, text: str) -> list[tuple[int | None, str, str]]:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert all(p.file == str(path) for p in caught.value.problems)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_every_shipped_scenario_loads(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    assert load_scenario(builtin_scenarios()[name]) == scenario
    assert scenario.timeline


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("90s", 90), ("5m", 300), ("1h30m", 5400), ("1h 30m", 5400), ("2h0m5s", 7205),
        ("1.5h", 5400), ("0.5s", 0.5), (" 5m ", 300), ("0s", 0), (90, 90), (12.5, 12.5),
        ("90", 90), ("2.5", 2.5),
    ],
)  # fmt: skip
def test_durations(written: str | float, seconds: float) -> None:
    step = _scenario({"at": written, "do": "uplink_cut"}, duration="3h").timeline[0]
    assert step.at == seconds
    if seconds > 0:  # a scenario lasts more than 0 s
        assert _scenario(duration=written).duration == seconds


@pytest.mark.parametrize(
    "written", ["", "h", "5m30", "30s5m", "-5s", "5M", "1e3s", "inf", "soon", "1d", True, False]
)
def test_bad_durations_are_refused_with_how_to_write_one(written: str | bool) -> None:
    with pytest.raises(ValidationError, match=r"is not a duration; write e\.g\. 90s, 5m, 1h30m"):
        _scenario({"at": written, "do": "uplink_cut"})


@pytest.mark.parametrize("written", [-1, float("inf"), float("nan")])
def test_negative_or_infinite_seconds_are_refused(written: float) -> None:
    with pytest.raises(ValidationError):
        _scenario({"at": written, "do": "uplink_cut"})


def test_a_step_may_end_exactly_at_the_end() -> None:
    scenario = _scenario({"at": "50m", "for": "10m", "do": "uplink_cut"})
    assert scenario.timeline[0].for_ == 600


@pytest.mark.parametrize(
    "step",
    [
        {"at": "50m", "for": "10m1s", "do": "uplink_cut"},
        {"at": "61m", "do": "uplink_cut"},
        {"at": "59m", "do": "broker_restart", "down": "2m"},
    ],
)
def test_a_step_running_past_the_end_is_refused(step: dict[str, Any]) -> None:
    late = r"timeline\[1\] \(\w+\) runs to \d+ s, after the scenario ends at 3600 s"
    with pytest.raises(ValidationError, match=late):
        _scenario({"at": 0, "do": "rain", "mm_h": 10}, step)


def test_for_zero_is_refused() -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        _scenario({"at": "5m", "for": 0, "do": "uplink_cut"})


@pytest.mark.parametrize(
    "step",
    [
        {"at": 0, "do": "dance"},
        {"at": 0},
        {"at": 0, "do": "rain", "mm_h": 10, "colour": "grey"},
        {"at": 0, "do": "fault", "kind": "smell", "fault": "stuck"},
        {"at": 0, "do": "fault", "kind": "smoke", "fault": "melted"},
        {"at": 0, "do": "fire", "stage": "flaming", "level": "purple"},
        {"at": 0, "do": "power_cut", "streets": []},
    ],
)
def test_bad_steps_are_refused(step: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _scenario(step)


def test_a_fault_names_its_kind_from_the_kind_table() -> None:
    (step,) = _scenario({"at": 0, "do": "fault", "kind": "gas", "fault": "drift"}).timeline
    assert isinstance(step, SensorFault)
    assert step.kind is KindName.GAS


def test_problems_carry_the_line_of_what_is_wrong(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        "name: bad\n"  # 1
        "title: A bad scenario\n"  # 2
        "duration: 10m\n"  # 3
        "speeed: 60\n"  # 4
        "timeline:\n"  # 5
        "  - {at: 1m, do: rain, mm_h: 20}\n"  # 6
        "  - at: 2m\n"  # 7
        "    do: fire\n"  # 8
        "    stage: burning\n"  # 9
        "  - {at: 3m, do: dance}\n"  # 10
        "  - {at: 4x, do: rain, mm_h: 5}\n",  # 11
    )
    lines = {field: line for line, field, _ in problems}
    assert lines == {"speeed": 4, "timeline.1.stage": 9, "timeline.2": 10, "timeline.3.at": 11}
    messages = {field: message for _, field, message in problems}
    assert "'smouldering', 'flaming' or 'out'" in messages["timeline.1.stage"]
    assert "'dance'" in messages["timeline.2"]
    assert messages["timeline.3.at"].startswith("'4x' is not a duration")


def test_a_step_past_the_end_is_reported_at_its_line(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        "name: late\n"
        "title: Late\n"
        "duration: 10m\n"
        "timeline:\n"
        "  - {at: 1m, do: rain, mm_h: 20}\n"
        "  - at: 9m\n"
        "    do: rain\n"
        "    mm_h: 5\n"
        "    for: 5m\n",
    )
    assert problems == [
        (6, "timeline.1", "timeline[1] (rain) runs to 840 s, after the scenario ends at 600 s; "
         "shorten it or lengthen duration"),
    ]  # fmt: skip


def test_a_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    ((line, _, message),) = _problems(tmp_path, "name: x\ntitle: [unclosed\nduration: 5m\n")
    assert line == 3
    assert message.startswith("not valid YAML")


def test_an_unknown_scenario_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        load_scenario("no-such-scenario")
    (problem,) = caught.value.problems
    assert problem.file == "no-such-scenario"
    assert problem.message.startswith("no such scenario; the shipped ones are: ")
    for name in builtin_scenarios():
        assert name in problem.message

"""A fault's ``params`` reach its class as written; a wrong one is a scenario error, not a crash."""

from __future__ import annotations

import pytest

from simulators.devices import Duplicate
from simulators.tape.compile import compile_tape
from simulators.tape.targets import TargetError

from .tapes import scenario


def fault(name: str, **params: object) -> dict[str, object]:
    return {"at": "5m", "for": "5m", "do": "fault", "kind": "water_level", "fault": name,
            "params": params}  # fmt: skip


def test_an_integer_parameter_stays_an_integer() -> None:
    s = scenario(fault("duplicate", copies=2))
    tape = compile_tape(s, 1)
    assert s.timeline[0].params == {"copies": 2}  # type: ignore[union-attr]
    copies = [r for r in tape.faults if r.fault == Duplicate.__name__]
    assert copies  # the fault ran: with copies=2.0 it crashed in range()


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({}, "metric"),  # stuck needs its metric
        ({"metric": "depth", "colour": "red"}, "colour"),
        ({"metric": "depth", "seed": 3}, "seed come from the step"),
    ],
)
def test_a_wrong_parameter_is_a_scenario_error(params: dict[str, object], says: str) -> None:
    with pytest.raises(TargetError, match=says):
        compile_tape(scenario(fault("stuck", **params)), 1)

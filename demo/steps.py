"""The scenario's timeline in words: what is happening in the city now.

Scenarios name places by position (``street: 1, community: 0``); the demo says their names in
the generated city (``林松社区 Linsong``), so that the timeline, the incidents and the pages in
the event log can be read together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from demo.words import place_names
from simulators.city import SimCity, SimStreet
from simulators.scenarios import model as m

_FIRE_STAGES = {"smouldering": "阴燃 smouldering", "flaming": "明火 flaming", "out": "扑灭 out"}
_ACTIONS = {
    "gas_leak": "燃气泄漏 gas leak",
    "spray": "喷雾 spray near a gas detector",
    "cooking": "做饭油烟 cooking smoke",
    "main_burst": "供水主管爆管 water main burst",
    "fault": "传感器故障 sensor fault",
    "uplink_cut": "网关断网 gateway uplink cut",
    "power_cut": "停电 power cut",
    "broker_restart": "MQTT broker restart",
    "commission": "新网关安装 a new gateway is installed",
    "test_alarm": "测试报警 test alarm",
}


@dataclass(frozen=True, slots=True)
class TimedStep:
    """A step of the timeline with its simulated times (Unix ms) and its words."""

    start_ms: int
    end_ms: int | None
    text: str


def timeline(scenario: m.Scenario, city: SimCity, start_ms: int) -> list[TimedStep]:
    """The scenario's steps in time order, each described in the city's names."""
    streets = [s for d in city.districts for s in d.streets]
    names = place_names(city)
    steps = []
    for step in sorted(scenario.timeline, key=lambda s: s.at):
        start = start_ms + int(step.at * 1000)
        length = step.for_ if step.for_ is not None else getattr(step, "down", None)
        end = None if length is None else start + int(length * 1000)
        steps.append(TimedStep(start, end, describe(step, streets, names)))
    return steps


def describe(step: m.Action, streets: list[SimStreet], names: Mapping[str, str]) -> str:
    """One step in words, e.g. ``暴雨 rain 70 mm/h over 天湖街道 Tianhu``."""
    match step:
        case m.Rain(mm_h=0):
            return f"雨停 the rain stops over {_streets(step.streets, streets)}"
        case m.Rain():
            return f"降雨 rain {step.mm_h:g} mm/h over {_streets(step.streets, streets)}"
        case m.Fire():
            return f"火灾 fire {_FIRE_STAGES[step.stage]} in {_place(step.where, streets, names)}"
        case m.HydrantEvent():
            return f"消火栓 hydrant {step.event} in {_place(step.where, streets, names)}"
        case m.PowerCut():
            return f"{_ACTIONS['power_cut']} in {_streets(step.streets, streets)}"
        case m.BrokerRestart():
            return f"{_ACTIONS['broker_restart']} ({step.broker}, down {step.down:g} s)"
    where = getattr(step, "where", None)
    place = f" in {_place(where, streets, names)}" if isinstance(where, m.Place) else ""
    return _ACTIONS.get(step.do, step.do) + place


def _streets(chosen: list[int] | str, streets: list[SimStreet]) -> str:
    if isinstance(chosen, str):  # all
        return "every street" if len(streets) > 1 else f"{streets[0].zh} {streets[0].en}"
    return ", ".join(f"{streets[i].zh} {streets[i].en}" for i in chosen if i < len(streets))


def _place(where: m.Place, streets: list[SimStreet], names: Mapping[str, str]) -> str:
    if where.street >= len(streets):
        return f"street {where.street}"
    street = streets[where.street]
    if where.community >= len(street.communities):
        return names[street.id]
    return names[street.communities[where.community].id]

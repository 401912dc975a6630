"""The scenario's timeline in the city's names."""

from __future__ import annotations

from demo.steps import timeline
from simulators.scenarios import load_scenario
from simulators.scenarios.model import Scenario
from simulators.tape.compile import build_city


def test_the_demo_scenarios_steps_name_the_streets_and_communities() -> None:
    scenario = load_scenario("demo")
    city = build_city(scenario, 1)
    streets = [s for d in city.districts for s in d.streets]
    first, second = streets[0], streets[1]
    fire_at = second.communities[0]
    steps = timeline(scenario, city, 0)
    texts = [s.text for s in steps]
    assert texts[1] == f"降雨 rain 80 mm/h over {first.zh} {first.en}"
    assert texts[2] == "雨停 the rain stops over every street"
    assert f"火灾 fire 明火 flaming in {fire_at.zh} {fire_at.en}" in texts
    assert [s.start_ms for s in steps] == sorted(s.start_ms for s in steps)
    assert steps[0].start_ms == 2 * 60_000
    assert steps[0].end_ms is None


def test_steps_with_an_end_and_the_other_actions() -> None:
    scenario = Scenario.model_validate({
        "name": "t", "title": "t", "duration": "1h", "city": {"streets": 2},
        "timeline": [
            {"at": "5m", "do": "uplink_cut", "where": {"street": 1, "community": 1}, "for": "10m"},
            {"at": "10m", "do": "power_cut", "streets": [0]},
            {"at": "20m", "do": "broker_restart", "down": "15s"},
        ],
    })  # fmt: skip
    city = build_city(scenario, 1)
    streets = [s for d in city.districts for s in d.streets]
    cut, power, restart = timeline(scenario, city, 0)
    community = streets[1].communities[1]
    assert cut.text == f"网关断网 gateway uplink cut in {community.zh} {community.en}"
    assert (cut.start_ms, cut.end_ms) == (300_000, 900_000)
    assert power.text == f"停电 power cut in {streets[0].zh} {streets[0].en}"
    assert restart.text == "MQTT broker restart (hub, down 15 s)"
    assert restart.end_ms == 1_215_000

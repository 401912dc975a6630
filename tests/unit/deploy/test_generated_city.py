"""The stack's gateways are the gateways of the city the simulator plays (deploy/simulator):
the committed configs are what deploy/simulator/generate.py writes, deployment changes included."""

from __future__ import annotations

import yaml

from simulators.scenarios import load_scenario
from simulators.tape.compile import compile_tape
from simulators.tape.plan import Control

from .stack import (
    DEPLOY,
    GATEWAY_CONFIGS,
    HUB_CONFIG,
    command,
    gateway_services,
    generator,
    mounts,
)


def test_the_committed_configs_are_generated_from_the_scenario() -> None:
    gen = generator()
    files = gen.render()
    assert set(files) == {HUB_CONFIG, *(GATEWAY_CONFIGS / f"{g}.yaml" for g in gateway_services())}
    for path, text in files.items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(DEPLOY.parent)} is stale: run deploy/simulator/generate.py"
        )
    assert gen.stale(files) == []


def test_staleness_is_noticed() -> None:
    gen = generator()
    files = gen.render()
    path = GATEWAY_CONFIGS / f"{sorted(gateway_services())[0]}.yaml"
    changed = {**files, path: files[path].replace("port: 1883", "port: 1884", 1)}
    assert gen.stale(changed) == [path]


def test_the_generator_applies_the_deployment_changes() -> None:
    for path, text in generator().render().items():
        if path == HUB_CONFIG:
            continue
        data = yaml.safe_load(text)
        gateway = data["gateway"]["id"]
        assert data["local_broker"] == {"host": "field", "port": 1883}
        assert data["uplink"] == {"host": "mqtt", "port": 1883, "username": gateway}
        assert data["buffer"] == {"path": "/var/lib/streetwatch/outbox.sqlite3"}
        sources = [s["source"] for s in data["sensors"]]
        assert any(s.get("base_topic", "").startswith(f"{gateway}/") for s in sources)


def test_the_simulator_plays_the_generated_city() -> None:
    gen = generator()
    sim = command("simulator")
    assert int(sim[sim.index("--seed") + 1]) == gen.SEED
    scenario_path = sim[sim.index("--scenario") + 1]
    assert mounts("simulator")[scenario_path] == "./" + str(gen.SCENARIO.relative_to(DEPLOY.parent))
    tape = compile_tape(load_scenario(gen.SCENARIO), gen.SEED)
    assert {g.id for g in tape.city.gateways()} == set(gateway_services())
    topics = {c.topic for c in tape.device_cues()}
    assert len(topics) >= 2 * len(gateway_services())


def test_the_stack_scenario_needs_nothing_the_simulator_cannot_do() -> None:
    """A rainstorm, then a kitchen fire, on two gateways; no uplink, power or broker control."""
    gen = generator()
    scenario = load_scenario(gen.SCENARIO)
    assert scenario.duration >= 3600
    tape = compile_tape(scenario, gen.SEED)
    assert not [c for c in tape.cues if isinstance(c, Control)]
    hazards = [r.what for r in tape.truth if r.kind == "hazard"]
    assert hazards == ["street_flood", "kitchen_fire"]

"""Power, uplink and broker controls for the runner, and the silence of a gateway without power."""

from __future__ import annotations

from simulators.scenarios.model import Place
from simulators.tape.compile import Tape, compile_tape
from simulators.tape.plan import Control
from simulators.tape.targets import Targets
from unit.simulators.tape.tapes import at, cues_of, scenario, shipped


def _controls(tape: Tape, action: str) -> list[Control]:
    return [c for c in tape.controls() if c.action == action]


def _times(tape: Tape, gateway: str) -> list[int]:
    return [c.t_ms for c in cues_of(tape, gateway=gateway)]


def test_power_cut_silences_every_gateway_of_the_street_for_its_window() -> None:
    tape = shipped("rainstorm-power-cut", 2)
    off, on = at(tape, 40 * 60), at(tape, 70 * 60)
    targets = Targets(tape.city)
    cut = {g.id for g in targets.gateways_of(1)}
    assert {(c.t_ms, c.target) for c in _controls(tape, "power_off")} == {(off, g) for g in cut}
    assert {(c.t_ms, c.target) for c in _controls(tape, "power_on")} == {(on, g) for g in cut}
    for gateway in cut:
        times = _times(tape, gateway)
        assert not [t for t in times if off <= t < on]
        assert any(t < off for t in times)
        assert any(t >= on for t in times)
    # Exactly what the gateways said in the window is gone, nothing else.
    steps = [s for s in tape.scenario.timeline if s.do != "power_cut"]
    plain = compile_tape(tape.scenario.model_copy(update={"timeline": steps}), 2)
    kept = [c for c in plain.device_cues() if not (c.gateway in cut and off <= c.t_ms < on)]
    assert kept == list(tape.device_cues())
    for other in targets.gateways_of(0):  # the other street keeps its power
        assert any(off <= t < on for t in _times(tape, other.id))


def test_a_power_cut_without_for_lasts_to_the_end() -> None:
    tape = compile_tape(scenario({"at": "10m", "do": "power_cut", "streets": [0]}), 1)
    assert _controls(tape, "power_on") == []
    assert len(_controls(tape, "power_off")) == 2  # both communities' gateways
    assert all(c.t_ms < at(tape, 600) for c in tape.device_cues())
    (note,) = [r for r in tape.truth if r.what == "power_cut"]
    assert note.end_ms == tape.end_ms


def test_a_commissioned_gateway_is_off_until_the_installer_powers_it_up() -> None:
    tape = shipped("commissioning", 4)
    gateway = Targets(tape.city).gateway(Place(community=1)).id
    up = at(tape, 5 * 60)
    assert [(c.t_ms, c.target) for c in _controls(tape, "power_off")] == [(tape.start_ms, gateway)]
    assert [(c.t_ms, c.target) for c in _controls(tape, "power_on")] == [(up, gateway)]
    times = _times(tape, gateway)
    assert times
    assert min(times) >= up
    other = Targets(tape.city).gateway(Place(community=0)).id
    assert min(_times(tape, other)) < up


def test_uplink_cut_and_restore() -> None:
    tape = shipped("rainstorm-power-cut", 2)
    gateway = Targets(tape.city).gateway(Place(street=0, community=1)).id
    assert _controls(tape, "uplink_cut") == [Control(at(tape, 30 * 60), "uplink_cut", gateway)]
    assert _controls(tape, "uplink_restore") == [
        Control(at(tape, 40 * 60), "uplink_restore", gateway)
    ]
    # Its devices still publish on the local broker: the edge stores what it cannot send.
    assert any(at(tape, 1800) <= t < at(tape, 2400) for t in _times(tape, gateway))


def test_an_uplink_cut_without_for_is_never_restored() -> None:
    tape = compile_tape(scenario({"at": "1m", "do": "uplink_cut", "where": {"community": 1}}), 1)
    (cut,) = _controls(tape, "uplink_cut")
    assert cut.target == Targets(tape.city).gateway(Place(community=1)).id
    assert _controls(tape, "uplink_restore") == []


def test_broker_restart_is_down_for_down_seconds() -> None:
    tape = shipped("rainstorm-power-cut", 2)
    down = at(tape, 25 * 60)
    assert list(tape.controls())[:2] == [
        Control(down, "broker_down", "hub"),
        Control(down + 15_000, "broker_up", "hub"),
    ]
    local = compile_tape(
        scenario({"at": "3m", "do": "broker_restart", "broker": "local", "down": "2m"}), 1
    )
    assert list(local.controls()) == [
        Control(at(local, 180), "broker_down", "local"),
        Control(at(local, 300), "broker_up", "local"),
    ]
    (note,) = local.truth
    assert note.what == "broker_restart"
    assert (note.start_ms, note.end_ms) == (at(local, 180), at(local, 300))

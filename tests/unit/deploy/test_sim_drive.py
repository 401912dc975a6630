"""`sim drive`'s pure parts: a round starts the scenario now, and what it cannot do is said once.

The playback against a real broker is in tests/integration/deploy/test_sim_drive.py.
"""

from __future__ import annotations

import logging
from datetime import datetime

import pytest

from simulators.run.drive import ENDS, SKIPPED, SkippedControls, compile_round, starting_at
from simulators.scenarios import load_scenario
from simulators.tape.plan import Control

NOW_S = 1_795_000_000.987654


def test_a_round_starts_now_in_the_scenarios_zone() -> None:
    scenario = load_scenario("kitchen-fire")
    moved = starting_at(scenario, NOW_S)
    assert moved.start.timestamp() == 1_795_000_000  # its second: no float rounding in the tape
    assert moved.start.utcoffset() == scenario.start.utcoffset()
    assert moved.timeline == scenario.timeline
    assert scenario.start == datetime.fromisoformat("2026-07-15T14:00:00+08:00"), "unchanged"


def test_the_tape_of_a_round_is_timed_from_now() -> None:
    scenario = load_scenario("kitchen-fire")
    tape = compile_round(scenario, NOW_S, 1)
    assert tape.start_ms == 1_795_000_000_000
    assert tape.end_ms == tape.start_ms + int(scenario.duration * 1000)
    times = [c.t_ms for c in tape.device_cues()]
    assert min(times) >= tape.start_ms
    assert max(times) <= tape.end_ms


def test_every_round_plays_the_same_city_with_new_noise() -> None:
    scenario = load_scenario("kitchen-fire")
    first, second = (compile_round(scenario, NOW_S, 5, n) for n in (1, 2))
    devices = [sorted((g.id, s.id) for g, s in t.city.sensors()) for t in (first, second)]
    assert devices[0] == devices[1], "the deployed gateways' sensors stay the same"
    assert first.digest() != second.digest(), "but the round is not a replay"


def test_each_skipped_control_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    skipped = SkippedControls()
    cut = Control(60_000, "uplink_cut", "gw-a-01")
    with caplog.at_level(logging.WARNING, logger="simulators.run.drive"):
        for _ in range(3):  # three rounds of the same scenario
            skipped.skip(cut)
            skipped.skip(Control(120_000, "uplink_restore", "gw-a-01"))
            skipped.skip(Control(60_000, "uplink_cut", "gw-b-01"))
            skipped.skip(Control(90_000, "broker_down", "hub"))
            skipped.skip(Control(95_000, "broker_up", "hub"))
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 3
    assert said[0].startswith("skipped: the scenario cuts gateway gw-a-01's network")
    assert "gw-b-01" in said[1]
    assert "restarts the hub broker" in said[2]


def test_every_control_of_the_shipped_scenarios_has_words() -> None:
    actions = set()
    for name in ("rainstorm-power-cut", "commissioning"):
        actions |= {c.action for c in compile_round(load_scenario(name), NOW_S, 1).controls()}
    assert actions == set(SKIPPED) | ENDS

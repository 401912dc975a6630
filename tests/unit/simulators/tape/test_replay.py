"""A tape is a pure function of (scenario, seed): the same inputs give the same bytes."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulators.scenarios import load_scenario
from simulators.tape.compile import compile_tape
from simulators.tape.targets import Targets
from unit.simulators.tape.tapes import cues_of, scenario, shipped

ROOT = Path(__file__).resolve().parents[4]


@pytest.mark.parametrize("name", ["kitchen-fire", "quiet-day"])
def test_the_same_seed_gives_the_same_tape(name: str) -> None:
    first, again = shipped(name, 3), compile_tape(load_scenario(name), 3)
    assert again.digest() == first.digest()
    assert again.cues == first.cues
    assert again.truth == first.truth
    assert again.faults == first.faults


def test_random_faults_did_act_in_quiet_day() -> None:
    """So that the replay of quiet-day above covers spikes, drops, duplicates and swaps."""
    actions = {f.action.value for f in shipped("quiet-day", 3).faults}
    assert {"spiked", "dropped", "duplicated", "reordered"} <= actions


@pytest.mark.parametrize("name", ["kitchen-fire", "quiet-day"])
def test_another_seed_gives_another_tape(name: str) -> None:
    a, b = shipped(name, 3), shipped(name, 4)
    assert a.digest() != b.digest()
    assert a.cues != b.cues


def test_the_digest_covers_cues_and_truth() -> None:
    tape = shipped("kitchen-fire", 3)
    assert dataclasses.replace(tape, truth=tape.truth[:-1]).digest() != tape.digest()
    assert dataclasses.replace(tape, cues=tape.cues[1:]).digest() != tape.digest()
    first = next(tape.device_cues())
    changed = dataclasses.replace(first, payload=first.payload + b" ")
    cues = tuple(changed if c is first else c for c in tape.cues)
    assert dataclasses.replace(tape, cues=cues).digest() != tape.digest()


def _digest_in_subprocess(hash_seed: str) -> str:
    code = (
        "from simulators.scenarios import load_scenario\n"
        "from simulators.tape.compile import compile_tape\n"
        "print(compile_tape(load_scenario('quiet-day'), 3).digest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_str_hash_salting_does_not_leak_into_the_tape() -> None:
    here = shipped("quiet-day", 3).digest()
    assert _digest_in_subprocess("0") == here
    assert _digest_in_subprocess("4242") == here


def test_each_sensor_reads_through_its_own_random_stream() -> None:
    """A step elsewhere in the city changes nothing for a sensor it does not touch (a wet gauge
    draws reading noise, a dry one does not: a shared stream would shift everyone's noise)."""
    city = {"streets": 2, "communities": 2, "mix": "mixed"}
    plain = scenario(city=city)
    busy = scenario(
        {"at": "2m", "do": "rain", "streets": [1], "mm_h": 80},
        {"at": "5m", "do": "cooking", "where": {"street": 1}, "for": "5m"},
        {"at": "2m", "do": "fault", "where": {"street": 1}, "kind": "water_level",
         "fault": "spikes", "params": {"metric": "depth", "magnitude": 30, "probability": 0.5}},
        city=city,
    )  # fmt: skip
    a, b = compile_tape(plain, 5), compile_tape(busy, 5)
    for gateway in Targets(a.city).gateways_of(0):
        assert cues_of(a, gateway=gateway.id) == cues_of(b, gateway=gateway.id)
    assert a.cues != b.cues

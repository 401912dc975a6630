"""Compile a scenario and a seed into a tape: every publish of every device, every control for
the runner, and the ground truth, each at its simulated time.

The tape is a pure function of (scenario, seed): the same inputs give the same bytes, which is
what makes a run replayable (``Tape.digest``). Per tick: the timeline's changes due by then, the
reports of the devices that report now, the hazard tracks' observation, one physics step. Then,
per sensor: value faults over its samples, its radio (``Transmitter``), delivery faults over its
messages, and the messages its gateway could not hear (powered off) removed. A reordered stream
keeps its time slots: the messages swap places, not times.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from simulators.city import SimCity, generate_city
from simulators.devices import (
    DeliveryFault,
    FaultRecord,
    Message,
    Sample,
    Transmitter,
    deliver,
    inject,
)
from simulators.scenarios.model import Scenario
from simulators.tape.hazards import records
from simulators.tape.plan import PLANNERS, Control, Plan
from simulators.tape.world import World
from simulators.truth import TruthRecord


@dataclass(frozen=True, slots=True)
class DeviceCue:
    """A device's publish on its gateway's local broker."""

    t_ms: int
    gateway: str
    sensor: str
    topic: str
    payload: bytes
    retain: bool


Cue = DeviceCue | Control


@dataclass(frozen=True, slots=True)
class Tape:
    scenario: Scenario
    seed: int
    city: SimCity
    start_ms: int
    end_ms: int
    cues: tuple[Cue, ...]
    truth: tuple[TruthRecord, ...]
    faults: tuple[FaultRecord, ...]

    def digest(self) -> str:
        """SHA-256 over every cue and truth record: equal digests, identical runs' inputs."""
        sha = hashlib.sha256()
        for cue in self.cues:
            sha.update(repr(cue).encode())
        for record in self.truth:
            sha.update(record.model_dump_json().encode())
        return sha.hexdigest()

    def device_cues(self) -> Iterator[DeviceCue]:
        return (c for c in self.cues if isinstance(c, DeviceCue))

    def controls(self) -> Iterator[Control]:
        return (c for c in self.cues if isinstance(c, Control))


def build_city(scenario: Scenario, seed: int) -> SimCity:
    shape = scenario.city
    return generate_city(
        seed, shape.districts, shape.streets, shape.communities, shape.gateways, shape.mix,
        shared_broker=True,
    )  # fmt: skip


def compile_tape(scenario: Scenario, seed: int, *, city_seed: int | None = None) -> Tape:
    """The whole run of ``scenario``: its city (from ``city_seed``, by default ``seed``), every
    device publish, control and truth record; the same arguments give the same tape."""
    city = build_city(scenario, seed if city_seed is None else city_seed)
    world = World(city, seed, scenario.start)
    plan = Plan(scenario, city, world, seed)
    for step in scenario.timeline:
        PLANNERS[step.do](plan, step)
    samples = _simulate(plan)
    log: list[FaultRecord] = []
    cues: list[tuple[int, int, Cue]] = []
    for order, (sensor, stream) in enumerate(samples.items()):
        device = world.devices[sensor]
        faults = plan.faults.get(sensor, [])
        sample_faults = [f for f in faults if not isinstance(f, DeliveryFault)]
        transmitter = Transmitter(device.spec)
        messages = [m for s in inject(stream, sample_faults, log) for m in transmitter.send(s)]
        delivered = list(
            deliver(messages, [f for f in faults if isinstance(f, DeliveryFault)], log)
        )
        slots = sorted(m.t_ms for m in delivered)
        gateway = device.gateway.id
        for t_ms, message in zip(slots, delivered, strict=True):
            if not _off(plan, gateway, t_ms):
                cues.append((t_ms, order, _cue(t_ms, gateway, message)))
    cues += [(c.t_ms, -1, c) for c in plan.controls]
    cues.sort(key=lambda c: (c[0], c[1]))
    truth = [*records(plan.tracks.values(), plan.end_ms, int(scenario.tick * 1000)), *plan.notes]
    truth.sort(key=lambda r: (r.start_ms, r.what, r.place))
    return Tape(
        scenario, seed, city, world.start_ms, plan.end_ms, tuple(c for _, _, c in cues),
        tuple(truth), tuple(log),
    )  # fmt: skip


def _simulate(plan: Plan) -> dict[str, list[Sample]]:
    world, tick_ms = plan.world, int(plan.scenario.tick * 1000)
    changes = sorted(plan.changes, key=lambda c: (c[0], c[1]))
    samples: dict[str, list[Sample]] = {sensor: [] for sensor in world.devices}
    t_ms, n = world.start_ms, 0
    while t_ms <= plan.end_ms:
        while n < len(changes) and changes[n][0] <= t_ms:
            changes[n][2]()
            n += 1
        for sample in world.reports(t_ms):
            samples[sample.sensor].append(sample)
        for track in plan.tracks.values():
            track.observe(t_ms)
        world.step(tick_ms / 1000)
        t_ms += tick_ms
    return samples


def _off(plan: Plan, gateway: str, t_ms: int) -> bool:
    return any(a <= t_ms < b for a, b in plan.off.get(gateway, ()))


def _cue(t_ms: int, gateway: str, message: Message) -> DeviceCue:
    p = message.publish
    return DeviceCue(t_ms, gateway, message.sensor, p.topic, p.payload, p.retain)

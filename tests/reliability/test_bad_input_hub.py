"""Bad input at the hub: whatever arrives on a gateway topic, the intake answers it exactly once.

Messages go straight to ``hub.ingest.intake.Intake.on_message``, what the MQTT loop calls per
message, wired to real SQLite files (``reliability.hub_intake``). Inputs are random bytes,
random JSON and mutations of real wire messages (``streetwatch.codec``), on right and wrong
topics, plus the hostile and unlucky cases named: a gateway speaking for another, a message in
the wrong street or on the wrong channel, replays, sequence numbers out of order, gateway clocks
days off, oversize payloads. Every message must be answered exactly once, as stored (its points
handed to the writer once), a duplicate, deferred (gateway not known yet), ignored, or rejected
(counted by reason and dead-lettered under that reason); every message is acknowledged once; a
good message stays stored whatever came around it.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson
from hypothesis import HealthCheck, event, given
from hypothesis import strategies as st
from support.fleet import VirtualGateway

from hub.ingest.sequence import SeqKey
from reliability.hub_intake import IntakeRun, running_intake
from reliability.payloads import HUAMU, T0, YANGJING, gateway, wire_messages
from reliability.strategies import bad_input, bad_payloads, mutations_of, one_of
from streetwatch.codec import MAX_PAYLOAD_BYTES, encode
from streetwatch.location import Area
from streetwatch.messages import AnomalyEvent, GatewayHealth, TelemetryBatch
from streetwatch.topics import Channel, TopicTree

A, B, STRANGER = "gw-a", "gw-b", "gw-z"  # A and B are registered; nobody knows the stranger
OTHER_BOOT = "fedcba9876543210"
DAY_MS = 86_400_000
TREE = TopicTree("t-reliability")
SEQUENCED = (Channel.DATA, Channel.EVENT, Channel.HEALTH)


def topic(gateway: str, channel: Channel, area: Area = HUAMU) -> str:
    return TREE.gateway(area.district, area.street, gateway, channel)


def templates(name: str, boot: str = OTHER_BOOT) -> list[tuple[Channel, bytes]]:
    return wire_messages(gateway(name, boot=boot), T0)


def wire_topics() -> st.SearchStrategy[str]:
    """Gateway topics, right and wrong: other channels, streets, gateways, shapes, any text."""
    right = st.sampled_from([topic(g, c) for g in (A, B) for c in (Channel.STATE, *SEQUENCED)])
    wrong = st.sampled_from(
        [
            topic(A, Channel.DATA, YANGJING),
            topic(STRANGER, Channel.DATA),
            TREE.gateway("pudong", "huamu", A, Channel.CMD, "confirm"),
            TREE.incident("pudong", "huamu"),
            TopicTree().gateway("pudong", "huamu", A, Channel.DATA),
        ]
    )
    bent = right.flatmap(
        lambda t: st.sampled_from(
            [t.upper(), t + "/x", t.rsplit("/", 1)[0], "/" + t, t + "/#", t.replace(A, "gw+a")]
        )
    )
    text = st.text(st.characters(codec="utf-8"), max_size=40)
    return st.one_of(right, right, wrong, bent, text)


def wire_messages_of(name: str) -> list[tuple[str, bytes]]:
    """(topic, payload) of every message ``name`` sends, in the boot it was registered with."""
    return [(topic(name, c), p) for c, p in templates(name, boot=gateway(name).boot)]


def any_messages() -> st.SearchStrategy[tuple[str, bytes]]:
    """Real messages of A, B and the stranger on their topics, as they are or mutated, or
    anything anywhere."""
    real = wire_messages_of(A) + wire_messages_of(B) + wire_messages_of(STRANGER)
    as_sent = st.sampled_from(real)
    mutated = as_sent.flatmap(lambda m: st.tuples(st.just(m[0]), mutations_of(m[1])))
    anything = st.tuples(wire_topics(), bad_payloads(one_of([p for _, p in real])))
    return st.one_of(as_sent, mutated, mutated, anything, anything)


async def register(run: IntakeRun, *gateways: VirtualGateway) -> None:
    for g in gateways:
        answer = await run.answer(topic(g.gateway, Channel.STATE, g.area), encode(g.birth(T0)))
        assert answer == "stored", answer


async def check_stored_once(run: IntakeRun) -> None:
    """After the writer's flush: each message handed over once, stored, acknowledged once."""
    await run.writer.flush()
    run.check_acknowledged()
    keys = [h.key for h in run.handed if h.key is not None]
    assert len(keys) == len(set(keys)), keys
    assert all(run.sequence.is_stored(k) for k in keys)


# ---------------------------------------------------------------------------------------------
# Anything at all.


@bad_input(150, HealthCheck.function_scoped_fixture)  # each example has its own directory
@given(st.lists(any_messages(), min_size=1, max_size=6))
def test_every_message_is_answered_exactly_once(
    tmp_path: Path, messages: list[tuple[str, bytes]]
) -> None:
    async def run_all() -> list[str]:
        async with running_intake(Path(tempfile.mkdtemp(dir=tmp_path)), T0) as run:
            await register(run, gateway(A), gateway(B))
            answers = [await run.answer(t, p) for t, p in messages]
            await check_stored_once(run)
        return answers

    for answer in asyncio.run(run_all()):
        event(answer.partition(":")[0])


# ---------------------------------------------------------------------------------------------
# Good messages with bad ones in between.


@dataclass(frozen=True, slots=True)
class Step:
    topic: str
    payload: bytes
    expect: str | None  # how the hub must answer; None: any way, but exactly once
    # The hub's clock jumps this much first, once the writer has caught up (a jump during a
    # write times the write out and sends it to the spool: the writer's own tests cover that).
    advance_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Good:
    step: Step
    key: SeqKey
    points: frozenset[tuple[str, str, int]]  # (measurement, sensor or gateway, time) it stores


def good_messages(draw: st.DrawFn, g: VirtualGateway) -> list[Good]:
    """Telemetry, events and health of ``g``, each stamped by a gateway clock up to 30 days off."""
    goods = []
    for _ in range(draw(st.integers(min_value=2, max_value=6))):
        t = T0 + draw(st.integers(min_value=-30 * DAY_MS, max_value=30 * DAY_MS))
        channel = draw(st.sampled_from(SEQUENCED))
        message: TelemetryBatch | AnomalyEvent | GatewayHealth
        if channel is Channel.DATA:
            message = g.telemetry(t)
            points = {("water_level", r.sensor, r.t) for r in message.readings}
        elif channel is Channel.EVENT:
            message = g.event(t)
            points = {("anomaly_event", message.sensor, t)}
        else:
            message = g.health(t)
            points = {("gateway_health", g.gateway, t)}
        step = Step(topic(g.gateway, channel), encode(message), "stored")
        key = SeqKey(g.gateway, g.boot, channel.value, message.seq)
        goods.append(Good(step, key, frozenset(points)))
    return goods


def oversize(payload: bytes) -> bytes:
    return payload[:-1] + b',"pad":"' + b" " * MAX_PAYLOAD_BYTES + b'"}'


def newer_version(payload: bytes) -> bytes:
    return orjson.dumps({**orjson.loads(payload), "v": 2})


BAD_CASES = (
    "replay",
    "speaks for A",
    "speaks for B",
    "wrong street",
    "wrong channel",
    "oversize",
    "newer version",
    "stranger",
    "mutated",
    "random",
)


def bad_step(draw: st.DrawFn, sent: list[Step]) -> Step:
    """A message that must not disturb the good ones (``sent``: the good ones sent so far).

    It is made from a message of A under another boot, or of B, or is one of ``sent`` again."""
    channel, payload = draw(st.sampled_from([m for m in templates(A) if m[0] in SEQUENCED]))
    here = topic(A, channel)
    match draw(st.sampled_from(BAD_CASES)):
        case "replay" if sent:
            again = draw(st.sampled_from(sent))
            return Step(again.topic, again.payload, "duplicate")
        case "speaks for A":
            b_channel, b_payload = draw(st.sampled_from(templates(B)))
            return Step(topic(A, b_channel), b_payload, "rejected:impersonation")
        case "speaks for B":
            return Step(topic(B, channel), payload, "rejected:impersonation")
        case "wrong street":
            return Step(topic(A, channel, YANGJING), payload, "rejected:wrong_place")
        case "wrong channel":
            other = draw(st.sampled_from([c for c in SEQUENCED if c is not channel]))
            return Step(topic(A, other), payload, "rejected:wrong_message")
        case "oversize":
            return Step(here, oversize(payload), "rejected:too_large")
        case "newer version":
            return Step(here, newer_version(payload), "rejected:unsupported_version")
        case "stranger":
            return Step(topic(STRANGER, channel), payload.replace(b'"gw-a', b'"gw-z'), "deferred")
        case "mutated":
            return Step(here, draw(mutations_of(payload)), None)
    return Step(here, draw(bad_payloads(st.just(payload))), None)


@dataclass(frozen=True, slots=True)
class Scenario:
    steps: list[Step]
    goods: list[Good]


@st.composite
def interleaved(draw: st.DrawFn) -> Scenario:
    """Good messages of A in any order, bad ones before, between and after them, the hub's
    clock jumping now and then."""
    goods = draw(st.permutations(good_messages(draw, gateway(A))))
    steps: list[Step] = []
    sent: list[Step] = []
    for good in [*goods, None]:
        for _ in range(draw(st.integers(min_value=0, max_value=2))):
            steps.append(bad_step(draw, sent))
        if good is not None:
            jump = draw(st.sampled_from([0.0, 0.0, 0.0, 0.0, 1.0, 15.0, 120.0]))
            steps.append(Step(good.step.topic, good.step.payload, good.step.expect, jump))
            sent.append(good.step)
    return Scenario(steps, goods)


@bad_input(150, HealthCheck.function_scoped_fixture)  # each example has its own directory
@given(interleaved())
def test_good_messages_are_stored_whatever_comes_between(
    tmp_path: Path, scenario: Scenario
) -> None:
    async def run_all() -> None:
        async with running_intake(Path(tempfile.mkdtemp(dir=tmp_path)), T0) as run:
            await register(run, gateway(A), gateway(B))
            for step in scenario.steps:
                if step.advance_s:
                    await run.writer.flush()
                    await run.clock.advance(step.advance_s)
                answer = await run.answer(step.topic, step.payload)
                event(answer.partition(":")[0])
                if step.expect is not None:
                    assert answer == step.expect, (step, answer)
            await check_stored_once(run)
            handed = [h.key for h in run.handed]
            stored = set()
            for measurement in ("water_level", "anomaly_event", "gateway_health"):
                stored |= {(measurement, *p) for p in await run.stored_points(measurement)}
            for good in scenario.goods:
                assert handed.count(good.key) == 1, good
                assert run.sequence.is_stored(good.key), good
                assert good.points <= stored, (good, good.points - stored)

    asyncio.run(run_all())

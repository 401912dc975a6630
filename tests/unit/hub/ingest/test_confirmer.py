from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from pydantic import ValidationError

from hub.ingest.confirmer import Confirmer, GatewayAddress
from hub.ingest.sequence import ResendRequest
from streetwatch.clock import ManualClock
from streetwatch.messages import Confirm, Resend

START = 1_700_000_000.0
BOOT = "b00700a1"
A = GatewayAddress("d1", "s1", "gw-a")
B = GatewayAddress("d1", "s1", "gw-b")


@dataclass
class Gateways:
    """The publish side: records what was sent, fails the next ``failing`` publishes."""

    sent: list[tuple[GatewayAddress, Confirm | Resend]] = field(default_factory=list)
    failing: int = 0

    async def publish(self, where: GatewayAddress, command: Confirm | Resend) -> None:
        if self.failing:
            self.failing -= 1
            raise ConnectionError("broker down")
        self.sent.append((where, command))

    def take(self) -> list[tuple[str, str, str, tuple[tuple[int, int], ...]]]:
        out: list[tuple[str, str, str, tuple[tuple[int, int], ...]]] = [
            (w.gateway, c.command, c.channel, c.ranges) for w, c in self.sent
        ]
        self.sent.clear()
        return out


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def gateways() -> Gateways:
    return Gateways()


async def test_confirms_merge_into_one_command_per_key_per_interval(
    clock: ManualClock, gateways: Gateways
) -> None:
    async with Confirmer(gateways.publish, clock=clock, interval_s=1.0) as confirmer:
        for seq in (0, 1, 2, 4, 3, 10):
            confirmer.confirm(A, BOOT, "data", seq)
        confirmer.confirm(A, BOOT, "data", 11, 20)
        confirmer.confirm(A, BOOT, "event", 0)
        confirmer.confirm(B, BOOT, "data", 7)
        await clock.advance(0.9)
        assert gateways.take() == []
        assert confirmer.stats().ranges_pending == 4
        await clock.advance(0.1)
        assert gateways.take() == [
            ("gw-a", "confirm", "data", ((0, 4), (10, 20))),
            ("gw-a", "confirm", "event", ((0, 0),)),
            ("gw-b", "confirm", "data", ((7, 7),)),
        ]
        assert gateways.sent == []
        await clock.advance(5)
        assert gateways.take() == []  # nothing new, nothing sent
        confirmer.confirm(A, BOOT, "data", 21)
        await clock.advance(1)
        assert gateways.take() == [("gw-a", "confirm", "data", ((21, 21),))]
        stats = confirmer.stats()
        assert (stats.confirms_sent, stats.ranges_pending) == (4, 0)


async def test_confirm_carries_the_clock_time(clock: ManualClock, gateways: Gateways) -> None:
    async with Confirmer(gateways.publish, clock=clock) as confirmer:
        await clock.advance(0.5)
        confirmer.confirm(A, BOOT, "health", 3)
        await clock.advance(0.5)
        ((_, command),) = gateways.sent
        assert command.t == int(START * 1000) + 1000


async def test_more_ranges_than_a_command_holds_are_split(
    clock: ManualClock, gateways: Gateways
) -> None:
    async with Confirmer(gateways.publish, clock=clock) as confirmer:
        for seq in range(0, 4002, 2):  # 2001 ranges
            confirmer.confirm(A, BOOT, "data", seq)
        await clock.advance(1)
        sizes = [len(c.ranges) for _, c in gateways.sent]
        assert sizes == [1000, 1000, 1]
        assert gateways.sent[0][1].ranges[-1] == (1998, 1998)
        assert gateways.sent[1][1].ranges[0] == (2000, 2000)


async def test_a_failed_publish_keeps_the_ranges_for_the_next_round(
    clock: ManualClock, gateways: Gateways
) -> None:
    async with Confirmer(gateways.publish, clock=clock) as confirmer:
        confirmer.confirm(A, BOOT, "data", 0, 5)
        gateways.failing = 1
        await clock.advance(1)
        assert gateways.sent == []
        stats = confirmer.stats()
        assert (stats.publish_failures, stats.ranges_pending, stats.confirms_sent) == (1, 1, 0)
        confirmer.confirm(A, BOOT, "data", 6)
        await clock.advance(1)
        assert gateways.take() == [("gw-a", "confirm", "data", ((0, 6),))]
        assert confirmer.stats().ranges_pending == 0


async def test_one_gateway_failing_does_not_hold_up_the_others(
    clock: ManualClock, gateways: Gateways
) -> None:
    async with Confirmer(gateways.publish, clock=clock) as confirmer:
        confirmer.confirm(A, BOOT, "data", 0)
        confirmer.confirm(B, BOOT, "data", 0)
        gateways.failing = 1  # A's
        await confirmer.flush()
        assert gateways.take() == [("gw-b", "confirm", "data", ((0, 0),))]
        await confirmer.flush()
        assert gateways.take() == [("gw-a", "confirm", "data", ((0, 0),))]


async def test_flush_publishes_now_and_leaving_flushes(
    clock: ManualClock, gateways: Gateways
) -> None:
    async with Confirmer(gateways.publish, clock=clock, interval_s=60) as confirmer:
        confirmer.confirm(A, BOOT, "data", 0)
        await confirmer.flush()
        assert gateways.take() == [("gw-a", "confirm", "data", ((0, 0),))]
        confirmer.confirm(A, BOOT, "data", 1)
    assert gateways.take() == [("gw-a", "confirm", "data", ((1, 1),))]
    assert clock.sleepers == 0  # the loop was cancelled


async def test_resends_follow_confirms_and_skip_what_arrived(
    clock: ManualClock, gateways: Gateways
) -> None:
    async with Confirmer(gateways.publish, clock=clock) as confirmer:
        confirmer.resend(A, ResendRequest("gw-a", BOOT, "data", ((3, 9), (20, 20))))
        confirmer.confirm(A, BOOT, "data", 5)  # arrived in the meantime
        await clock.advance(1)
        assert gateways.take() == [
            ("gw-a", "confirm", "data", ((5, 5),)),
            ("gw-a", "resend", "data", ((3, 4), (6, 9), (20, 20))),
        ]
        confirmer.resend(A, ResendRequest("gw-a", BOOT, "data", ((1, 1),)))
        confirmer.confirm(A, BOOT, "data", 1)
        await clock.advance(1)
        assert gateways.take() == [("gw-a", "confirm", "data", ((1, 1),))]
        assert confirmer.stats().resends_sent == 1


def test_what_could_never_be_published_is_refused_at_once(clock: ManualClock) -> None:
    confirmer = Confirmer(Gateways().publish, clock=clock)
    with pytest.raises(ValidationError):
        confirmer.confirm(A, "not-hex", "data", 0)
    with pytest.raises(ValidationError):
        confirmer.confirm(A, BOOT, "cmd", 0)
    with pytest.raises(ValueError, match="first <= last"):
        confirmer.confirm(A, BOOT, "data", 5, 4)
    with pytest.raises(ValueError, match="gateway"):
        GatewayAddress("d1", "s1", "GW A")
    with pytest.raises(ValueError, match="max_ranges"):
        Confirmer(Gateways().publish, clock=clock, max_ranges=1001)

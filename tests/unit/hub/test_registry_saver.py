"""The registry saver: births no longer write the file on the event loop, bursts are coalesced,
nothing is lost at a clean stop, and a failed write is retried."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from support.city import example_city
from support.waiting import eventually

from hub.registry import GatewayRegistry, Registered
from hub.registry_saver import RegistrySaver
from streetwatch.clock import ManualClock
from streetwatch.location import Area
from streetwatch.messages import GatewayState

STREETS = [("huamu", "lianyang"), ("yangjing", "jinyang")]


def birth(n: int, boot: str = "b0000001") -> tuple[str, str, GatewayState]:
    street, community = STREETS[n % 2]
    gateway = f"gw-{n}"
    state = GatewayState(
        gateway=gateway,
        area=Area(district="pudong", street=street, community=community),
        online=True,
        boot=boot,
        t=1,
        software="1.0.0",
        sensors=(),
    )
    return street, gateway, state


def register(registry: GatewayRegistry, n: int, boot: str = "b0000001") -> None:
    street, gateway, state = birth(n, boot)
    assert isinstance(registry.register("pudong", street, gateway, state, 100 + n), Registered)


async def written(registry: GatewayRegistry, saves: int) -> None:
    await eventually(lambda: registry.saves >= saves and not registry.dirty, what=f"write {saves}")


def on_file(path: Path) -> dict[str, str]:
    reopened = GatewayRegistry(example_city(), path).open()
    return {r.gateway: r.boot for r in reopened.records()}


async def test_a_burst_of_births_is_written_once_or_twice_off_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    registry = GatewayRegistry(example_city(), path).open()
    async with RegistrySaver(registry, clock=ManualClock(0)) as saver:
        for n in range(280):  # a street's gateways back after a power cut, no await between
            register(registry, n)
        assert registry.saves == 0  # none of the births wrote the file on the loop
        assert not path.exists()
        await saver.save()
        assert registry.saves == 1
        assert on_file(path) == {f"gw-{n}": "b0000001" for n in range(280)}

        for n in range(280):  # they reboot again: the saver's own task writes them
            register(registry, n, boot="b0000002")
        await written(registry, 2)
        await saver.save()  # nothing left: no third write
        assert registry.saves == 2
        assert set(on_file(path).values()) == {"b0000002"}


async def test_what_changed_before_a_clean_stop_is_written(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    registry = GatewayRegistry(example_city(), path).open()
    async with RegistrySaver(registry, clock=ManualClock(0)):
        register(registry, 1)
        assert registry.forget("gw-1")
        register(registry, 2)
    assert on_file(path) == {"gw-2": "b0000001"}
    assert not registry.dirty


async def test_a_failed_write_is_logged_kept_dirty_and_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "state"
    blocked.write_text("a file where the state directory should be", encoding="utf-8")
    registry = GatewayRegistry(example_city(), blocked / "registry.json").open()
    clock = ManualClock(0)
    with caplog.at_level(logging.ERROR, logger="hub.registry_saver"):
        async with RegistrySaver(registry, clock=clock, retry_s=30):
            register(registry, 1)
            await eventually(lambda: "cannot write the gateway registry" in caplog.text)
            assert registry.dirty
            assert registry.saves == 0
            blocked.unlink()  # the operator frees the path
            await clock.advance(30)
            await written(registry, 1)
    assert on_file(blocked / "registry.json") == {"gw-1": "b0000001"}

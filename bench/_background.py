"""Background telemetry for bench_alarm_latency.py: one street's gateways, as virtual gateways.

Not a benchmark of its own. The alarm benchmark runs it as a child process (and stops it by
its PID) so that the load it makes does not share an event loop with the alarm probes:

    python bench/_background.py --port 18830 --gateways 280 --multipliers 0,1,10

It registers every gateway (a birth each, then one telemetry batch each, and waits until the
hub has confirmed them all: the hub knows the whole street), prints READY and sends at the
first multiplier. SIGUSR1 moves on to the next multiplier, SIGTERM stops. With
``--reboot-every-s S``, every S seconds, in every phase, all gateways reboot at once (a new boot
id, sequence numbers from 0) and send their births back to back, as a street does when its power
comes back. Whenever a phase ends it prints one line::

    PHASE multiplier=1 seconds=61.2 messages=571 readings=3396 unconfirmed=3 births=280

At multiplier 1 each gateway sends what an edge agent sends in normal times (平时): one
telemetry batch with a reading of each of its sensors and one health message a minute, spread
evenly over the minute and over the gateways. Multiplier m sends both m times a minute; 0 sends
nothing (the gateways stay registered). The wire protocol is tests/support/fleet.py's: the
edge agent's, sequence numbers and confirmations included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import signal
import time
from dataclasses import dataclass

from _support import Fleet, VirtualGateway, eventually

from streetwatch.location import Area

COMMUNITIES = ("lianyang", "huamu-garden", "dongming")  # Huamu street in examples/hub.yaml


@dataclass
class Phase:
    multiplier: float
    messages: int = 0
    readings: int = 0
    births: int = 0


def street(gateways: int, sensors: int) -> list[VirtualGateway]:
    areas = [Area(district="pudong", street="huamu", community=c) for c in COMMUNITIES]
    return [
        VirtualGateway(f"bg-{i:04d}", areas[i % len(areas)], sensors=sensors)
        for i in range(gateways)
    ]


async def send_phase(
    fleet: Fleet, gateways: list[VirtualGateway], phase: Phase, done: asyncio.Event
) -> None:
    """Send at ``phase.multiplier`` until ``done``: gateway by gateway, its data then its
    health, so that any stretch of the phase carries both in the same proportion."""
    if phase.multiplier <= 0:
        await done.wait()
        return
    interval = 60.0 / (phase.multiplier * len(gateways) * 2)
    loop = asyncio.get_running_loop()
    start, k = loop.time(), 0
    while not done.is_set():
        g = gateways[(k // 2) % len(gateways)]
        now = int(time.time() * 1000)
        if k % 2 == 0:
            batch = g.telemetry(now)
            phase.readings += len(batch.readings)
            await fleet.send(g, batch)
        else:
            await fleet.send(g, g.health(now))
        phase.messages += 1
        k += 1
        delay = start + k * interval - loop.time()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), delay)


async def reboot_storms(
    fleet: Fleet, gateways: list[VirtualGateway], every_s: float, phase: Phase, done: asyncio.Event
) -> None:
    """Every ``every_s``: every gateway reboots (new boot, sequences from 0) and is born again."""
    while not done.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), every_s)
            return
        now = int(time.time() * 1000)
        for g in gateways:
            g.boot, g.next_seq = secrets.token_hex(8), {}
            await fleet.send(g, g.birth(now))
            phase.births += 1


def unconfirmed(gateways: list[VirtualGateway]) -> int:
    return sum(len(g.unconfirmed) for g in gateways)


async def run(args: argparse.Namespace) -> None:
    multipliers = [float(m) for m in args.multipliers.split(",")]
    gateways = street(args.gateways, args.sensors)
    loop = asyncio.get_running_loop()
    next_phase, stop = asyncio.Event(), asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, next_phase.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with Fleet(args.host, args.port, "", gateways) as fleet:
        now = int(time.time() * 1000)
        for g in gateways:
            await fleet.send(g, g.birth(now))
        for g in gateways:
            await fleet.send(g, g.telemetry(now))
        await eventually(fleet.all_confirmed, within_s=120, what="the hub to confirm every gateway")
        print("READY", flush=True)
        for multiplier in multipliers:
            phase, ended = Phase(multiplier), asyncio.Event()
            started = time.monotonic()
            sending = asyncio.create_task(send_phase(fleet, gateways, phase, ended))
            storms = asyncio.create_task(
                reboot_storms(fleet, gateways, args.reboot_every_s, phase, ended)
                if args.reboot_every_s > 0
                else ended.wait()
            )
            waits = [asyncio.ensure_future(e.wait()) for e in (next_phase, stop)]
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for w in waits:
                w.cancel()
            ended.set()
            await sending
            await storms
            print(
                f"PHASE multiplier={multiplier:g} seconds={time.monotonic() - started:.1f} "
                f"messages={phase.messages} readings={phase.readings} "
                f"unconfirmed={unconfirmed(gateways)} births={phase.births}",
                flush=True,
            )
            next_phase.clear()
            if stop.is_set():
                return
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="the hub's broker")
    parser.add_argument("--port", type=int, required=True, help="the hub's broker port")
    parser.add_argument("--gateways", type=int, default=280, help="gateways in the street")
    parser.add_argument("--sensors", type=int, default=12, help="sensors per gateway")
    parser.add_argument("--multipliers", default="0,1,10", help="phases, SIGUSR1 moves on")
    parser.add_argument(
        "--reboot-every-s", type=float, default=0.0, help="all gateways reboot this often (0: no)"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

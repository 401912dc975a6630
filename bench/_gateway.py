"""The gateway the edge benchmarks load: a generated city's gateway of N sensors, and its devices.

Not a benchmark. ``bench_gateway`` asks the city generator (``simulators/city``) for one gateway
with a mix of every sensor kind; the generator picks each sensor's ecosystem from the kind
table's usual places (Zigbee2MQTT indoors, ChirpStack on the street, Tasmota where wired, plain
JSON for NB-IoT), so the payloads are the mix a real gateway decodes. ``Devices`` is the
simulator's own world (``simulators/tape/world.py``: physics, noise, battery) and radios
(``Transmitter``: availability first, LoRaWAN frame counters), except that every device reports
at every step instead of at its kind's interval: the benchmarks load a gateway at a fixed rate
(1 Hz), which no shipped scenario does.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import aiomqtt

from simulators.city import Brokers, SimCity, SimGateway, gateway_config, generate_city
from simulators.devices import Publish, Sample, Transmitter
from simulators.tape.world import World
from streetwatch.kinds import KindName

BEIJING = timezone(timedelta(hours=8))

MIX_PER_20 = {
    KindName.SMOKE: 6,
    KindName.GAS: 4,
    KindName.WATER_LEVEL: 4,
    KindName.HYDRANT: 3,
    KindName.MANHOLE_COVER: 2,
    KindName.POWER: 1,
}
"""Twenty sensors of every kind; a gateway of N sensors has N / 20 times this."""


@dataclass(frozen=True)
class BenchGateway:
    city: SimCity
    seed: int

    @property
    def gateway(self) -> SimGateway:
        return next(self.city.gateways())

    @property
    def sensors(self) -> int:
        return len(self.gateway.sensors)

    def config(self, local: tuple[str, int], uplink: tuple[str, int]) -> dict[str, Any]:
        """Its gateway.yaml as plain data (the generator's), pointed at these brokers."""
        return gateway_config(self.gateway, Brokers(*local, *uplink))

    def describe(self) -> str:
        kinds = Counter(s.kind.value for s in self.gateway.sensors)
        ecos = Counter(s.source.ecosystem.value for s in self.gateway.sensors)
        return (
            f"{self.sensors} sensors ({', '.join(f'{n} {k}' for k, n in kinds.items())}); "
            f"ecosystems: {', '.join(f'{n} {e}' for e, n in ecos.most_common())}"
        )


def bench_gateway(sensors: int = 200, seed: int = 1) -> BenchGateway:
    if sensors < 20 or sensors % 20:
        raise ValueError(f"sensors must be a multiple of 20, not {sensors}")
    mix = {kind: n * sensors // 20 for kind, n in MIX_PER_20.items()}
    return BenchGateway(generate_city(seed, 1, 1, 1, 1, mix), seed)


class Devices:
    """Every sensor of the gateway reporting once per ``step``, from ``start`` on."""

    def __init__(self, bench: BenchGateway, start: datetime) -> None:
        self.world = World(bench.city, bench.seed, start)
        self._radios = {sid: Transmitter(d.spec) for sid, d in self.world.devices.items()}

    def step(self, t_ms: int, dt_s: float) -> tuple[int, list[Publish]]:
        """(samples, publishes) of every device at ``t_ms``; then ``dt_s`` of physics."""
        for device in self.world.devices.values():
            device.last_ms = None  # due now: every device reports at every step
            device.first_ms = t_ms
        samples = list(self.world.reports(t_ms))
        self.world.step(dt_s)
        out = [m.publish for s in samples for m in self._radios[s.sensor].send(s)]
        return len(samples), out

    def smoke_detectors(self) -> list[str]:
        return [s for s, d in self.world.devices.items() if d.sensor.kind is KindName.SMOKE]

    def smoke_alarm(self, sensor: str, t_ms: int) -> list[Publish]:
        """What a smoke detector publishes when it goes into alarm (1.2 dB/m, alarm flag set)."""
        device = self.world.devices[sensor]
        values = {"smoke": True, "smoke_density": 1.2}
        sample = Sample(sensor, KindName.SMOKE, t_ms, values, battery=device.battery)
        return [m.publish for m in self._radios[sensor].send(sample)]


def beijing(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=BEIJING)


async def publish_rounds(
    devices: Devices,
    client: aiomqtt.Client,
    rounds: int,
    begin: float,
    now_ms: Callable[[], int],
    period_s: float = 1.0,
) -> tuple[int, int, float]:
    """Every device once per ``period_s``, ``rounds`` times from ``begin`` (the loop's time),
    spread evenly over each period, at QoS 0 as Zigbee2MQTT and ChirpStack publish by default;
    the samples are stamped ``now_ms()``. Returns (samples, publishes, how late it fell at most).
    """
    loop = asyncio.get_running_loop()
    samples = publishes = 0
    late = 0.0
    for round_ in range(rounds):
        count, out = devices.step(now_ms(), period_s)
        samples += count
        for i, p in enumerate(out):
            wait = begin + (round_ + i / len(out)) * period_s - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                late = max(late, -wait)
            await client.publish(p.topic, p.payload, qos=0, retain=p.retain)
            publishes += 1
    return samples, publishes, late

"""The street's devices in the edge-side fault cases: their physics, how they publish, and the
ledger of every sample they published.

A flood gauge at an underpass (plain JSON with ``ts``) and two smoke detectors in building b1
(Zigbee2MQTT with ``last_seen``) are the simulators' physics (``Waterlogging``, ``SmokeRoom``)
and encoders, three samples a second each; their physics runs 60 times faster than their
clocks, so a street floods in seconds. A reading's time decides its window, so the devices
publish in the first 450 ms of each second only: a reading still lands in its own window when
the gateway takes up to half a second to process it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import aiomqtt
from support.services import MosquittoService

from simulators.devices import DeviceSpec, Publish, Sample, Transmitter
from simulators.devices.encoding import published
from simulators.physics import SmokeRoom, Waterlogging
from simulators.physics.water import DRAINAGE_MM_H
from streetwatch.kinds import KINDS, Ecosystem, KindName

__all__ = ["Device", "Devices", "Published", "street_devices"]

SLOTS_MS = (20, 220, 420)  # when, within each second, every device publishes
SIM_SPEED = 60.0  # physics seconds per second of the devices' clocks
FLOOD_RAIN_MM_H = 330.0  # 30 cm/min of physics time: orange in about a second


@dataclass(frozen=True, slots=True)
class Published:
    """One sample a device published: its own clock's time, the real time, the primary value."""

    sensor: str
    t_ms: int
    real_ms: int
    value: float


@dataclass
class Device:
    """A simulated sensor: its physics, how it publishes, its clock's error."""

    sensor: str
    spec: DeviceSpec
    model: Waterlogging | SmokeRoom
    building: str | None = None
    skew_ms: int = 0
    flood_to_cm: float | None = None  # rain until this depth, then rain the drains carry
    _radio: Transmitter = field(init=False)

    def __post_init__(self) -> None:
        self._radio = Transmitter(self.spec)

    @property
    def kind(self) -> KindName:
        return self.spec.kind

    @property
    def primary(self) -> str:
        return KINDS[self.kind].primary

    def step(self, dt_s: float) -> None:
        if isinstance(self.model, Waterlogging) and self.flood_to_cm is not None:
            rising = self.model.depth_cm < self.flood_to_cm
            self.model.rain_mm_h = FLOOD_RAIN_MM_H if rising else DRAINAGE_MM_H
        self.model.step(dt_s)

    def publish(self, real_ms: int, rng: random.Random) -> tuple[list[Publish], Published]:
        """The publishes of one sample taken at ``real_ms``, and its line in the ledger."""
        values = self.model.read(rng)
        sample = Sample(self.sensor, self.kind, real_ms, values, battery=90, skew_ms=self.skew_ms)
        fm = self.spec.chosen()[self.primary]
        value = published(values[self.primary], fm, KINDS[self.kind].metric(self.primary))
        record = Published(self.sensor, sample.device_ms, real_ms, float(value))
        return [m.publish for m in self._radio.send(sample)], record

    def gateway_entry(self) -> dict[str, Any]:
        """This sensor in gateway.yaml."""
        placement: dict[str, Any] = {"risk_point": "underpass"}
        if self.building is not None:
            placement = {"building": self.building, "floor": 3, "risk_point": "kitchen"}
        source: dict[str, Any] = {
            "ecosystem": self.spec.ecosystem.value,
            "device": self.spec.device,
        }
        if self.spec.base is not None:
            source["base_topic"] = self.spec.base
        return {
            "id": self.sensor,
            "kind": self.kind.value,
            "source": source,
            "placement": placement,
            "report_interval_s": 1,
        }


def street_devices(prefix: str, *, skews_ms: dict[str, int] | None = None) -> list[Device]:
    """A flood gauge at an underpass (plain JSON, ``ts``) and two smoke detectors in building b1
    (Zigbee2MQTT with ``last_seen``), every clock right unless ``skews_ms`` says otherwise."""
    skews = skews_ms or {}
    water = DeviceSpec(Ecosystem.JSON, f"{prefix}/dev/water-1", KindName.WATER_LEVEL)
    out = [Device("water-1", water, Waterlogging(), skew_ms=skews.get("water-1", 0))]
    for n in (1, 2):
        spec = DeviceSpec(
            Ecosystem.ZIGBEE2MQTT, f"b1/smoke-{n}", KindName.SMOKE, base=f"{prefix}/z2m"
        )
        sensor = f"smoke-{n}"
        out.append(Device(sensor, spec, SmokeRoom(), "b1", skew_ms=skews.get(sensor, 0)))
    return out


class Devices:
    """The devices' publishing loop on the gateway's local broker, and the ledger of it."""

    def __init__(self, broker: MosquittoService, devices: Sequence[Device], seed: int = 7) -> None:
        self.broker = broker
        self.devices = {d.sensor: d for d in devices}
        self.log: list[Published] = []
        self.rng = random.Random(seed)
        self._on = asyncio.Event()
        self._round = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._client: aiomqtt.Client | None = None

    async def __aenter__(self) -> Self:
        self._client = aiomqtt.Client(self.broker.host, self.broker.port)
        await self._client.__aenter__()
        self._task = asyncio.create_task(self._load(self._client), name="devices.load")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            await self._client.__aexit__(None, None, None)

    def run(self) -> None:
        self._on.set()

    async def halt(self) -> None:
        """Stop publishing; returns once the round in progress is out (the ledger is final)."""
        self._on.clear()
        async with self._round:
            if self._task is not None and self._task.done():
                self._task.result()  # what stopped the devices early

    def published(self, sensor: str) -> list[Published]:
        return [p for p in self.log if p.sensor == sensor]

    async def _load(self, client: aiomqtt.Client) -> None:
        step_s = SIM_SPEED / len(SLOTS_MS)  # physics seconds per round
        while True:
            await self._on.wait()
            await asyncio.sleep(_until_next_slot())
            if not self._on.is_set():
                continue
            async with self._round:
                real_ms = int(time.time() * 1000)
                for device in self.devices.values():
                    device.step(step_s)
                    publishes, record = device.publish(real_ms, self.rng)
                    for p in publishes:
                        await client.publish(p.topic, p.payload, qos=1, retain=p.retain)
                    self.log.append(record)


def _until_next_slot() -> float:
    ms = time.time() * 1000
    into = ms % 1000
    for slot in SLOTS_MS:
        if into < slot:
            return (slot - into) / 1000
    return (1000 - into + SLOTS_MS[0]) / 1000

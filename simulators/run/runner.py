"""Play a tape against a real StreetWatch: private brokers, the hub, an edge agent per gateway,
simulated responders, all on one ``ScaledClock``.

The clock is held at ``lead_s`` simulated seconds before the tape while every component starts
(brokers, hub, agents: real processes and connections take real time), then runs, so that each
gateway has announced itself, and no timer has run, when the first cue is due. Cues are played
at their simulated times; how late the machine got (``lag_s``) is measured, because a run that
cannot keep up at its speed is no longer the scenario: lower ``--speed`` then.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt

from edge.agent import EdgeAgent
from edge.config import GatewayConfig
from hub.service import Hub
from simulators.run.brokers import Broker
from simulators.run.network import UplinkRelay
from simulators.run.responders import SimulatedResponders
from simulators.run.stack import PowerLost, edge_agent, edge_config, hub_config
from simulators.score import ObservedAck, ObservedIncident, ObservedPage
from simulators.tape.compile import DeviceCue, Tape
from simulators.tape.plan import Control
from streetwatch.clock import ScaledClock
from streetwatch.component import Component

log = logging.getLogger(__name__)


@dataclass
class PlayStats:
    published: int = 0
    lost: int = 0  # devices' publishes while the local broker was down
    controls: int = 0
    lag_s: float = 0.0  # the latest a device's publish was played, in simulated seconds
    boots: dict[str, int] = field(default_factory=dict)


class ScenarioRun(Component):
    """``async with ScenarioRun(tape, work, speed=60) as run: await run.play()``."""

    def __init__(
        self,
        tape: Tape,
        work: Path,
        *,
        speed: float,
        lead_s: float = 20.0,
        storage: dict[str, Any] | None = None,
    ) -> None:
        self.tape, self.work, self.speed = tape, work, speed
        self.storage = storage  # the hub's `storage` section; None: its embedded SQLite
        self.clock = ScaledClock(start=tape.start_ms / 1000 - lead_s, speed=speed, paused=True)
        self.stats = PlayStats()
        self.agents: dict[str, EdgeAgent] = {}
        self.relays: dict[str, UplinkRelay] = {}
        self.configs: dict[str, GatewayConfig] = {}
        self._devices: aiomqtt.Client | None = None

    async def start(self) -> None:
        work, tape = self.work, self.tape
        self.sockets = Path(tempfile.mkdtemp(prefix="swsim-"))  # `edge status` works here
        self._stack.callback(shutil.rmtree, self.sockets, ignore_errors=True)
        self.brokers = {
            "local": await self.enter(Broker(work / "local-broker", name="local")),
            "hub": await self.enter(Broker(work / "hub-broker", name="hub")),
        }
        secret = secrets.token_urlsafe(32)
        self.responders = await self.enter(
            SimulatedResponders(
                secret, clock=self.clock, seed=tape.seed, behaviour=tape.scenario.responders
            )
        )
        hub_port = self.brokers["hub"].port
        config = hub_config(tape.city, work, hub_port, self.responders.url, secret, self.storage)
        self.hub = await self.enter(Hub(config, base_dir=work, clock=self.clock))
        dark = {c.target for c in tape.controls() if c.action == "power_off"
                and c.t_ms <= tape.start_ms}  # fmt: skip
        for gateway in tape.city.gateways():
            relay = UplinkRelay("127.0.0.1", self.brokers["hub"].port, name=gateway.id)
            self.relays[gateway.id] = await self.enter(relay)
            self.configs[gateway.id] = edge_config(
                gateway, self.brokers["local"].port, relay.port, self.sockets
            )
            if gateway.id not in dark:
                await self._power_on(gateway.id)

    async def stop(self) -> None:
        for gateway in list(self.agents):
            agent = self.agents.pop(gateway)
            await agent.__aexit__(None, None, None)
        if self._devices is not None:
            await self._devices.__aexit__(None, None, None)

    async def play(self) -> PlayStats:
        """Every cue at its time, then until the scenario's end."""
        self.clock.resume()
        for cue in self.tape.cues:
            late = await self._until(cue.t_ms)
            if isinstance(cue, DeviceCue):
                self.stats.lag_s = max(self.stats.lag_s, late)  # controls take real time
                await self._publish(cue)
            else:
                await self._control(cue)
        await self._until(self.tape.end_ms)
        return self.stats

    async def observed(
        self,
    ) -> tuple[list[ObservedIncident], list[ObservedPage], list[ObservedAck]]:
        store = self.hub.responding.store
        incidents = [ObservedIncident.from_hub_json(i.model_dump(mode="json"))
                     for i in await store.recent(10_000)]  # fmt: skip
        pages, acks = self.responders.observed()
        return incidents, pages, acks

    async def _until(self, t_ms: int) -> float:
        """Sleep until ``t_ms``; how many simulated seconds late it already was."""
        wait = t_ms / 1000 - self.clock.now()
        if wait > 0:
            await self.clock.sleep(wait)
            return 0.0
        return -wait

    async def _publish(self, cue: DeviceCue) -> None:
        try:
            if self._devices is None:
                client = aiomqtt.Client("127.0.0.1", self.brokers["local"].port,
                                        identifier=f"sim-devices-{self.tape.seed}")  # fmt: skip
                await client.__aenter__()
                self._devices = client
            await self._devices.publish(cue.topic, cue.payload, qos=0, retain=cue.retain)
            self.stats.published += 1
        except aiomqtt.MqttError:
            self.stats.lost += 1
            self._devices = None

    async def _control(self, cue: Control) -> None:
        self.stats.controls += 1
        log.info("%s %s", cue.action, cue.target)
        match cue.action:
            case "uplink_cut":
                self.relays[cue.target].cut("uplink")
            case "uplink_restore":
                await self.relays[cue.target].restore("uplink")
            case "power_off":
                await self._power_off(cue.target)
            case "power_on":
                await self._power_on(cue.target)
            case "broker_down":
                await self.brokers[cue.target].stop()
                if cue.target == "hub":  # gateways' connects are refused, not left to time out
                    for relay in self.relays.values():
                        relay.cut("broker")
            case "broker_up":
                await self.brokers[cue.target].start()
                if cue.target == "hub":
                    for relay in self.relays.values():
                        await relay.restore("broker")
            case "test_alarm":
                agent = self.agents.get(cue.target)
                if agent is not None and cue.sensor is not None:
                    await agent.test_alarm(cue.sensor)
            case _:
                raise ValueError(f"unknown control {cue.action!r}")

    async def _power_on(self, gateway: str) -> None:
        if gateway in self.agents:
            return
        await self.relays[gateway].restore("power")
        boot = self.stats.boots[gateway] = self.stats.boots.get(gateway, 0) + 1
        agent = edge_agent(self.configs[gateway], self.work, self.clock,
                           f"{self.tape.seed}:{gateway}:{boot}")  # fmt: skip
        self.agents[gateway] = await agent.__aenter__()

    async def _power_off(self, gateway: str) -> None:
        """The relay dies with the power (the broker sends the will), then the agent, mid-step."""
        self.relays[gateway].cut("power")
        agent = self.agents.pop(gateway, None)
        if agent is not None:
            lost = PowerLost(f"power cut at {gateway}")
            try:
                await agent.__aexit__(PowerLost, lost, None)  # no goodbye: stop() is skipped
            except* PowerLost:
                pass

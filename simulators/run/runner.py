"""Play a tape against a real StreetWatch: private brokers, the hub, an edge agent per gateway,
simulated responders, all on one ``ScaledClock``.

The clock is held at ``lead_s`` simulated seconds before the tape while every component starts
(brokers, hub, agents: real processes and connections take real time), then runs, so that each
gateway has announced itself, and no timer has run, when the first cue is due. Cues are played
at their simulated times; how late the machine got (``lag_s``) is measured, because a run that
cannot keep up at its speed is no longer the scenario: lower ``--speed`` then.

The brokers are private Mosquittos unless ``brokers`` says otherwise (``embedded_broker``). On
a broker others use too (``shared``), the run keeps its topics under a namespace of its own and
has no uplink relays: a scenario's uplink cuts and broker restarts are skipped (counted), and a
power cut stops the gateways without their will.
"""

from __future__ import annotations

import contextlib
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
from hub.incidents.audit import AuditAction
from hub.incidents.model import Incident
from hub.service import Hub
from simulators.run.embedded_broker import MOSQUITTO, BrokerKind, RunBroker, clear_retained
from simulators.run.network import UplinkRelay
from simulators.run.responders import SimulatedResponders
from simulators.run.stack import (
    PowerLost,
    Watcher,
    device_topic,
    edge_agent,
    edge_config,
    hub_config,
)
from simulators.score import ObservedAck, ObservedIncident, ObservedPage
from simulators.tape.compile import DeviceCue, Tape
from simulators.tape.plan import Control
from streetwatch.clock import ScaledClock
from streetwatch.component import Component
from streetwatch.levels import Level

log = logging.getLogger(__name__)

Observed = tuple[list[ObservedIncident], list[ObservedPage], list[ObservedAck]]
"""The hub's incidents, and the pages and answers the simulated responders saw."""


@dataclass
class PlayStats:
    published: int = 0
    lost: int = 0  # devices' publishes while the local broker was down
    controls: int = 0
    lag_s: float = 0.0  # the latest a device's publish was played, in simulated seconds
    skipped: int = 0  # controls a shared broker cannot play (uplink cuts, broker restarts)
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
        brokers: BrokerKind = MOSQUITTO,
        watcher: Watcher | None = None,
    ) -> None:
        self.tape, self.work, self.speed = tape, work, speed
        self.storage = storage  # the hub's `storage` section; None: its embedded SQLite
        self.kind, self.watcher = brokers, watcher
        self.namespace = f"swsim-{secrets.token_hex(4)}" if brokers.shared else ""
        self.clock = ScaledClock(start=tape.start_ms / 1000 - lead_s, speed=speed, paused=True)
        self.stats = PlayStats()
        self.agents: dict[str, EdgeAgent] = {}
        self.relays: dict[str, UplinkRelay] = {}
        self.configs: dict[str, GatewayConfig] = {}
        self._devices: aiomqtt.Client | None = None
        self._levels: dict[str, list[tuple[int, Level]]] = {}  # incident id → (hub ms, level)

    async def start(self) -> None:
        work, tape, kind = self.work, self.tape, self.kind
        self.sockets = Path(tempfile.mkdtemp(prefix="swsim-"))  # `edge status` works here
        self._stack.callback(shutil.rmtree, self.sockets, ignore_errors=True)
        self.brokers: dict[str, RunBroker] = {
            "local": await self.enter(kind.make(work / "local-broker", "local")),
            "hub": await self.enter(kind.make(work / "hub-broker", "hub")),
        }
        if self.namespace:  # the last thing before leaving somebody else's broker
            self._stack.push_async_callback(self._clear_namespace)
        secret = secrets.token_urlsafe(32)
        self.responders = await self.enter(
            SimulatedResponders(
                secret, clock=self.clock, seed=tape.seed, behaviour=tape.scenario.responders
            )
        )
        hub, local = self._address("hub"), self._address("local")
        config = hub_config(
            tape.city, work, hub, self.responders.url, secret, self.storage,
            mqtt5=kind.mqtt5, namespace=self.namespace, watcher=self.watcher,
        )  # fmt: skip
        self.hub = await self.enter(Hub(config, base_dir=work, clock=self.clock))
        self.hub.responding.changes.append(self._note_level)
        dark = {c.target for c in tape.controls() if c.action == "power_off"
                and c.t_ms <= tape.start_ms}  # fmt: skip
        for gateway in tape.city.gateways():
            uplink = hub
            if not kind.shared:  # a relay per gateway, so that its uplink can be cut
                relay = UplinkRelay(*hub, name=gateway.id)
                self.relays[gateway.id] = await self.enter(relay)
                uplink = ("127.0.0.1", relay.port)
            self.configs[gateway.id] = edge_config(
                gateway, local, uplink, self.sockets, self.namespace
            )
        # Before the relays, the hub and the brokers close, whatever ends the run (Ctrl-C too):
        # agents started by hand would keep their outboxes' threads, and the process, alive.
        self._stack.push_async_callback(self._unplug)
        for gateway in tape.city.gateways():
            if gateway.id not in dark:
                await self._power_on(gateway.id)

    async def _clear_namespace(self) -> None:
        try:
            cleared = await clear_retained(*self._address("hub"), self.namespace)
            log.info("cleared %d retained messages under %s/", cleared, self.namespace)
        except aiomqtt.MqttError as exc:
            log.warning("could not clear the retained messages under %s/: %s", self.namespace, exc)

    def _address(self, broker: str) -> tuple[str, int]:
        return self.brokers[broker].host, self.brokers[broker].port

    async def _unplug(self) -> None:
        """Stop every agent (with its goodbye) and the devices' client."""
        for gateway in list(self.agents):
            agent = self.agents.pop(gateway)
            await agent.__aexit__(None, None, None)
        devices, self._devices = self._devices, None
        if devices is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await devices.__aexit__(None, None, None)

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

    async def observed(self) -> Observed:
        store = self.hub.responding.store
        incidents = []
        for i in await store.recent(10_000):
            trail = await store.audit(i.id)  # when it was reopened: the hub's JSON does not say
            reopened = tuple(e.t for e in trail if e.action is AuditAction.REOPENED)
            seen = ObservedIncident.from_hub_json(i.model_dump(mode="json"))
            peaks = self._peaks(i, (i.opened_at, *reopened))
            update = {"level": max(peaks), "reopened_at": reopened, "peaks": peaks}
            incidents.append(seen.model_copy(update=update))
        pages, acks = self.responders.observed()
        return incidents, pages, acks

    def _note_level(self, incident: Incident) -> None:
        self._levels.setdefault(incident.id, []).append((incident.updated_at, incident.level))

    def _peaks(self, incident: Incident, lives: tuple[int, ...]) -> tuple[Level, ...]:
        """The highest level of each life of ``incident`` (from its opening, then from each
        reopening): the hub lowers the level as a hazard recedes, and the score judges what
        StreetWatch warned of, not where it ended."""
        changes = [*self._levels.get(incident.id, ()), (incident.updated_at, incident.level)]
        ends = (*lives[1:], None)
        return tuple(
            max(
                (level for t, level in changes if start <= t and (end is None or t < end)),
                default=Level.NONE,
            )
            for start, end in zip(lives, ends, strict=True)
        )

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
                who = self.namespace or self.tape.seed
                client = aiomqtt.Client(*self._address("local"), identifier=f"sim-devices-{who}")
                await client.__aenter__()
                self._devices = client
            topic = device_topic(cue.topic, self.namespace)
            await self._devices.publish(topic, cue.payload, qos=0, retain=cue.retain)
            self.stats.published += 1
        except aiomqtt.MqttError:
            self.stats.lost += 1
            self._devices = None

    async def _control(self, cue: Control) -> None:
        self.stats.controls += 1
        relay = self.relays.get(cue.target)
        if (cue.action.startswith("uplink_") and relay is None) or (
            cue.action.startswith("broker_") and not self.kind.restartable
        ):
            self.stats.skipped += 1
            log.info("%s %s skipped: the broker is shared", cue.action, cue.target)
            return
        log.info("%s %s", cue.action, cue.target)
        match cue.action:
            case "uplink_cut" if relay is not None:
                relay.cut("uplink")
            case "uplink_restore" if relay is not None:
                await relay.restore("uplink")
            case "power_off":
                await self._power_off(cue.target)
            case "power_on":
                await self._power_on(cue.target)
            case "broker_down":
                await self.brokers[cue.target].stop()
                if cue.target == "hub":  # gateways' connects are refused, not left to time out
                    for each in self.relays.values():
                        each.cut("broker")
            case "broker_up":
                await self.brokers[cue.target].start()
                if cue.target == "hub":
                    for each in self.relays.values():
                        await each.restore("broker")
            case "test_alarm":
                agent = self.agents.get(cue.target)
                if agent is not None and cue.sensor is not None:
                    await agent.test_alarm(cue.sensor)
            case _:
                raise ValueError(f"unknown control {cue.action!r}")

    async def _power_on(self, gateway: str) -> None:
        if gateway in self.agents:
            return
        if gateway in self.relays:
            await self.relays[gateway].restore("power")
        boot = self.stats.boots[gateway] = self.stats.boots.get(gateway, 0) + 1
        agent = edge_agent(self.configs[gateway], self.work, self.clock,
                           f"{self.tape.seed}:{gateway}:{boot}")  # fmt: skip
        self.agents[gateway] = await agent.__aenter__()

    async def _power_off(self, gateway: str) -> None:
        """The relay dies with the power (the broker sends the will), then the agent, mid-step."""
        if gateway in self.relays:
            self.relays[gateway].cut("power")
        agent = self.agents.pop(gateway, None)
        if agent is not None:
            lost = PowerLost(f"power cut at {gateway}")
            try:
                await agent.__aexit__(PowerLost, lost, None)  # no goodbye: stop() is skipped
            except* PowerLost:
                pass

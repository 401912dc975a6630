"""The gateway agent: wires the local source, the pipeline, the outbox and the uplink.

local broker ─▶ LocalSource ─▶ Pipeline (decode, validate, detect, report) ─▶ Enqueuer
    ─▶ Outbox (SQLite) ─▶ Uplink ─▶ hub broker;  hub commands ─▶ Uplink ─▶ here
local siren/webhook ◀─ LocalAlarm ◀─ raised events while the uplink is down
"""

from __future__ import annotations

import asyncio
import logging
import random
from pathlib import Path
from typing import Any

import httpx

from edge.config import GatewayConfig
from edge.control import ControlServer
from edge.detectors.base import Finding
from edge.enqueue import Enqueuer
from edge.health import AgentCollector, HealthSnapshot
from edge.local_action import LocalAlarm
from edge.outbox import MemoryOutbox, Outbox, OutboxStats, Pressure, SqliteOutbox
from edge.pipeline import Outputs, Pipeline
from edge.sequence import Sequencer
from edge.source import LocalSource
from edge.uplink import Uplink
from streetwatch import __version__
from streetwatch.anomalies import AnomalyType
from streetwatch.clock import Clock, SystemClock, now_ms
from streetwatch.codec import encode
from streetwatch.component import Component
from streetwatch.counters import Counters
from streetwatch.levels import Level
from streetwatch.messages import (
    AlertMode,
    Command,
    EventState,
    GatewayHealth,
    GatewayState,
    LostRange,
    Ping,
    Rebirth,
    ReloadConfig,
    SensorInfo,
    SilenceSiren,
)
from streetwatch.prometheus import PrometheusEndpoint
from streetwatch.topics import Channel

log = logging.getLogger(__name__)

TICK_S = 1.0
COARSEN_FACTOR = 4


def open_outbox(config: GatewayConfig, base_dir: Path) -> Outbox:
    quota = int(config.buffer.quota_mb * 1024 * 1024)
    if config.buffer.in_memory:
        return MemoryOutbox(quota_bytes=quota)
    path = config.buffer.path if config.buffer.path.is_absolute() else base_dir / config.buffer.path
    return SqliteOutbox(path, quota_bytes=quota)


def by_lane(stats: OutboxStats) -> dict[str, int]:
    """Outbox depth keyed by lane name, as status, health and metrics report it."""
    return {lane.name.lower(): n for lane, n in stats.depth.items()}


def control_socket_path(config: GatewayConfig, base_dir: Path) -> Path:
    if config.health.control_socket is not None:
        p = config.health.control_socket
        return p if p.is_absolute() else base_dir / p
    buffer = (
        config.buffer.path if config.buffer.path.is_absolute() else base_dir / config.buffer.path
    )
    return buffer.with_name(f"{config.gateway.id}.sock")


class EdgeAgent(Component):
    def __init__(
        self,
        config: GatewayConfig,
        *,
        base_dir: Path = Path("."),
        clock: Clock | None = None,
        outbox: Outbox | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.base_dir = base_dir
        self.clock: Clock = clock or SystemClock()
        self._outbox = outbox
        self.rng = rng or random.Random()
        self.counters = Counters()
        self.sequencer = Sequencer(f"{self.rng.getrandbits(64):016x}")
        self.pipeline = Pipeline(config, self.counters)
        self.reload_requested = asyncio.Event()
        self._started_ms = 0
        self._stats: OutboxStats | None = None  # refreshed every tick, read by Prometheus

    # -- wiring ---------------------------------------------------------------------------

    async def start(self) -> None:
        cfg = self.config
        self._started_ms = now_ms(self.clock)
        self.outbox: Outbox = await self.enter(self._outbox or open_outbox(cfg, self.base_dir))
        self.enqueuer = Enqueuer(
            cfg.gateway,
            cfg.reporting,
            self.sequencer,
            self.outbox,
            clock=self.clock,
            counters=self.counters,
        )
        self.local = await self.enter(
            LocalSource(
                cfg.local_broker,
                self.pipeline.router.subscriptions(),
                self._on_local,
                identifier=f"sw-edge-{cfg.gateway.id}-local",
                clock=self.clock,
                rng=self.rng,
            )
        )
        self.http = await self.enter(httpx.AsyncClient(trust_env=False))
        self.alarm = LocalAlarm(
            cfg.local_action, publish=self.local.publish, http=self.http, counters=self.counters
        )
        self.uplink = await self.enter(
            Uplink(
                cfg.uplink,
                cfg.gateway,
                self.outbox,
                boot=self.sequencer.boot,
                birth=self.birth,
                on_command=self._on_command,
                clock=self.clock,
                counters=self.counters,
                rng=self.rng,
            )
        )
        self.uplink.on_connection_change = self._on_uplink
        self.control = await self.enter(
            ControlServer(control_socket_path(cfg, self.base_dir), self._on_control)
        )
        if cfg.health.prometheus_port is not None:
            self.prometheus = PrometheusEndpoint(
                cfg.health.prometheus_port, AgentCollector(self.health_snapshot)
            )
            self.prometheus.open()
            self._stack.callback(self.prometheus.close)
        self.spawn(self._tick_loop(), "tick")
        self.spawn(self._summary_loop(), "summaries")
        self.spawn(self._health_loop(), "health")

    def _on_uplink(self, up: bool) -> None:
        self.alarm.uplink_up = up
        log.info("uplink %s", "up" if up else "down")

    # -- data path ------------------------------------------------------------------------

    async def _on_local(self, topic: str, payload: bytes) -> None:
        await self._emit(self.pipeline.on_message(topic, payload, now_ms(self.clock)))

    async def _emit(self, out: Outputs) -> None:
        now = now_ms(self.clock)
        for sensor, found in out.findings:
            event = await self.enqueuer.event(sensor, found)
            await self.alarm.on_event(event, sensor, now)
        if out.findings:
            self.uplink.kick()
        self.enqueuer.stream(out.readings)
        if self.enqueuer.batch_due():
            await self.enqueuer.flush_stream()
            self.uplink.kick()

    async def _tick_loop(self) -> None:
        while True:
            await self.clock.sleep(TICK_S)
            await self._emit(self.pipeline.tick(now_ms(self.clock)))
            self._stats = await self.outbox.stats()
            if self.enqueuer.batch_due():
                await self.enqueuer.flush_stream()
                self.uplink.kick()

    async def _summary_loop(self) -> None:
        while True:
            await self.clock.sleep(self.config.reporting.window_s)
            stats = await self.outbox.stats()
            coarsen = COARSEN_FACTOR if stats.pressure >= Pressure.COARSEN else 1
            summaries = self.pipeline.summaries(now_ms(self.clock), coarsen=coarsen)
            if summaries:
                await self.enqueuer.summaries(summaries)
                self.uplink.kick()

    async def _health_loop(self) -> None:
        while True:
            await self.clock.sleep(self.config.health.interval_s)
            await self.send_health()

    async def send_health(self) -> None:
        stats = await self.outbox.stats()
        lost = tuple(
            LostRange(boot=r.boot, channel=r.channel, first=r.first, last=r.last)
            for r in (await self.outbox.evicted())[-1000:]
        )
        now = now_ms(self.clock)
        message = GatewayHealth(
            gateway=self.config.gateway.id,
            boot=self.sequencer.boot,
            seq=self.sequencer.next(Channel.HEALTH),
            t=now,
            uptime_s=(now - self._started_ms) / 1000,
            reconnects=self.uplink.reconnects,
            buffer_depth=by_lane(stats),
            dropped={k: v for k, v in stats.dropped.items() if v},
            rejected=self.counters.by_reason("rejected"),
            last_seen=self.pipeline.last_seen(),
            lost=lost,
            alert_mode=self.pipeline.alert_mode(now),
        )
        await self.enqueuer.health(message)
        self.uplink.kick()

    # -- hub commands ---------------------------------------------------------------------

    async def _on_command(self, command: Command) -> None:
        now = now_ms(self.clock)
        self.counters.add("command", command.command)
        match command:
            case AlertMode():
                self.pipeline.set_alert_mode(command.on, command.until)
            case Ping():
                await self.send_health()
            case Rebirth():
                await self.uplink.publish_now(Channel.STATE, encode(self.birth(True)), retain=True)
            case SilenceSiren():
                self.alarm.silence(command.until, now)
            case ReloadConfig():
                self.reload_requested.set()

    def birth(self, online: bool) -> GatewayState:
        cfg = self.config
        return GatewayState(
            gateway=cfg.gateway.id,
            area=cfg.gateway.area,
            online=online,
            boot=self.sequencer.boot,
            t=now_ms(self.clock),
            software=__version__,
            config_hash=cfg.config_hash(),
            health_interval_s=cfg.health.interval_s,
            sensors=tuple(
                SensorInfo(
                    id=s.id,
                    kind=s.kind,
                    placement=s.placement,
                    report_interval_s=s.interval_s,
                    offline_after_s=s.offline_s,
                )
                for s in cfg.sensors
            ),
        )

    # -- installer's commands -------------------------------------------------------------

    def health_snapshot(self) -> HealthSnapshot:
        now = now_ms(self.clock)
        stats = self._stats
        return HealthSnapshot(
            gateway=self.config.gateway.id,
            uplink_connected=self.uplink.connected.is_set(),
            reconnects=self.uplink.reconnects,
            buffer_depth=by_lane(stats) if stats else {},
            buffer_bytes=stats.bytes if stats else 0,
            pressure=stats.pressure.name.lower() if stats else "unknown",
            counters=self.counters.items(),
            last_seen_ms=self.pipeline.last_seen(),
            overdue=self.pipeline.overdue(now),
        )

    async def status(self) -> dict[str, Any]:
        now = now_ms(self.clock)
        stats = await self.outbox.stats()
        return {
            "ok": True,
            "gateway": self.config.gateway.id,
            "boot": self.sequencer.boot,
            "now_ms": now,
            "uplink": {
                "connected": self.uplink.connected.is_set(),
                "since_ms": self.uplink.connected_since_ms,
                "reconnects": self.uplink.reconnects,
                "last_error": self.uplink.last_error,
            },
            "local_broker": {"connected": self.local.connected},
            "buffer": {
                "depth": by_lane(stats),
                "bytes": stats.bytes,
                "in_flight": stats.in_flight,
                "pressure": stats.pressure.name.lower(),
                "dropped": stats.dropped,
            },
            "alert_mode": self.pipeline.alert_mode(now),
            "sensors": self.pipeline.sensor_status(now),
            "overdue": self.pipeline.overdue(now),
            "counters": [list(c) for c in self.counters.items()],
        }

    async def test_alarm(self, sensor_id: str) -> dict[str, Any]:
        sensor = self.config.sensor(sensor_id)
        now = now_ms(self.clock)
        events = []
        for state in (EventState.RAISED, EventState.CLEARED):
            found = Finding(
                key="test",
                type=AnomalyType.TEST,
                level=Level.ORANGE,
                state=state,
                t=now,
                detail="installer test alarm (streetwatch edge test-alarm)",
            )
            events.append(await self.enqueuer.event(sensor, found, test=True))
        self.uplink.kick()
        return {
            "ok": True,
            "event": events[0].id,
            "seq": events[0].seq,
            "uplink_connected": self.uplink.connected.is_set(),
        }

    async def _on_control(self, request: dict[str, Any]) -> dict[str, Any]:
        match request.get("op"):
            case "status":
                return await self.status()
            case "test_alarm":
                return await self.test_alarm(str(request.get("sensor")))
            case "confirmed":
                seq = int(request.get("seq", -1))
                return {"ok": True, "confirmed": self.uplink.was_confirmed(Channel.EVENT, seq)}
            case other:
                return {"ok": False, "error": f"unknown request {other!r}"}

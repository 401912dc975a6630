"""The hub: one component that owns the MQTT session, the intake, storage and presence.

    async with Hub(config, base_dir=Path("/etc/streetwatch")) as hub:
        await hub.wait_stopped()

Sub-components open in dependency order (stores first, the MQTT session last, so nothing
arrives before there is somewhere to put it) and close in reverse. Its background tasks, all on
the injected clock: presence checks, resend requests for gaps, pruning the SQLite store; the
streets' pictures for the dashboards are written by ``hub.status.StreetStatus``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

import aiomqtt

from hub.config import HubConfig
from hub.events import HubEvent
from hub.fanout import Fanout, Located
from hub.ingest.confirmer import Confirmer, GatewayAddress
from hub.ingest.deadletter import DeadLetters
from hub.ingest.intake import Handover, Intake
from hub.ingest.link import HubLink
from hub.ingest.seqstore import SeqStore
from hub.ingest.sequence import SequenceTracker
from hub.metrics import HubCollector
from hub.presence.tracker import PresenceTracker
from hub.registry import GatewayRegistry
from hub.registry_saver import RegistrySaver
from hub.responding import Responding
from hub.status import StreetStatus, owned_streets
from hub.storage.base import Point, StorageError
from hub.storage.open import open_backend
from hub.storage.spool import Spool
from hub.storage.sqlite_store import SqliteStore
from hub.storage.writer import StoreWriter
from streetwatch.clock import Clock, SystemClock, now_ms
from streetwatch.codec import encode
from streetwatch.component import Component
from streetwatch.counters import Counters
from streetwatch.messages import AnomalyEvent, Confirm, Rebirth, Resend
from streetwatch.prometheus import PrometheusEndpoint
from streetwatch.topics import Channel

log = logging.getLogger(__name__)

RESEND_CHECK_S = 1.0
PRUNE_EVERY_S = 3600.0


class Hub(Component):
    def __init__(self, config: HubConfig, *, base_dir: Path, clock: Clock | None = None) -> None:
        self.config = config
        self.base_dir = base_dir
        self.clock: Clock = clock or SystemClock()
        self.counters = Counters()
        self.events: Fanout[Located[AnomalyEvent] | HubEvent] = Fanout()
        self._rebirth_asked: dict[str, int] = {}
        self._stopped = asyncio.Event()
        self.prometheus: PrometheusEndpoint | None = None

    def path(self, p: Path) -> Path:
        return self.config.state_path(self.base_dir, p)

    async def start(self) -> None:
        cfg = self.config
        state_dir = self.path(Path("."))
        state_dir.mkdir(parents=True, exist_ok=True)
        self.registry = GatewayRegistry(cfg.city, self.path(Path("registry.json")))
        self.registry.open()
        await self.enter(RegistrySaver(self.registry, clock=self.clock))
        self.presence = PresenceTracker(
            cfg.presence, self.registry, emit=lambda e: self.intake.publish_hub_event(e)
        )
        self.presence.link_down(now_ms(self.clock))  # the hub hears nobody until it connects
        self.dead_letters = await self.enter(
            DeadLetters(
                self.path(Path("dead-letters.sqlite3")),
                max_entries=cfg.ingest.dead_letters,
                max_payload_bytes=cfg.ingest.dead_letter_payload_bytes,
            )
        )
        seq_store = await self.enter(SeqStore(self.path(Path("sequence.sqlite3"))))
        self.sequence = await self.enter(
            SequenceTracker(
                seq_store,
                reorder_timeout_s=cfg.ingest.reorder_timeout_s,
                resend_max_interval_s=cfg.ingest.resend_max_interval_s,
                boots_per_gateway=cfg.ingest.boots_per_gateway,
            )
        )
        self.backend = await self.enter(open_backend(cfg.storage, state_dir))
        self.spool = await self.enter(
            Spool(self.path(cfg.storage.spool_path), int(cfg.storage.spool_quota_mb * 2**20))
        )
        self.confirmer = await self.enter(
            Confirmer(
                self._publish_command, clock=self.clock, interval_s=cfg.ingest.confirm_interval_s
            )
        )
        self.writer: StoreWriter[Handover] = await self.enter(
            StoreWriter(
                self.backend,
                self.spool,
                cfg.storage,
                clock=self.clock,
                on_durable=lambda handovers: self.intake.on_durable(handovers),
                on_rejected=self._on_rejected,
            )
        )
        self.link = HubLink(
            cfg.mqtt,
            client_id=cfg.client_id(),
            on_message=lambda m: self.intake.on_message(m),
            clock=self.clock,
            on_connection_change=self._link_changed,
        )
        self.intake = Intake(
            tree=self.link.topics,
            registry=self.registry,
            presence=self.presence,
            sequence=self.sequence,
            confirmer=self.confirmer,
            dead_letters=self.dead_letters,
            hand_over=self.writer.add,
            ack=self.link.ack,
            ask_rebirth=self._ask_rebirth,
            events=self.events,
            clock=self.clock,
            counters=self.counters,
        )
        self.responding = await self.enter(
            Responding(
                cfg,
                state_dir=state_dir,
                registry=self.registry,
                tree=self.link.topics,
                publish_retained=lambda topic, payload: self.link.publish(
                    topic, payload, retain=True
                ),
                collector=HubCollector(self),
                clock=self.clock,
                write=self._write,
            )
        )
        self.status = await self.enter(
            StreetStatus(
                city=cfg.city,
                streets=owned_streets(cfg.city, cfg.mqtt.scopes()),
                registry=self.registry,
                presence=self.presence,
                board=self.responding.board,
                write=self._write,
                clock=self.clock,
                interval_s=cfg.metrics.status_interval_s,
            )
        )
        self.presence.street_changes.append(self.status.watch)
        self.responding.board.street_changes.append(self.status.watch)
        self.intake.observe = lambda batch, origin: self.responding.hydrants.observe(
            batch, origin.placements
        )
        events = await self.enter(self.events.subscribe(joined=True))
        self.spawn(self.responding.consume(events), "incidents")
        await self.enter(self.link)
        self.spawn(self._presence_loop(), "presence")
        self.spawn(self._resend_loop(), "resend")
        if isinstance(self.backend, SqliteStore):
            self.spawn(self._prune_loop(self.backend), "prune")
        if cfg.metrics.prometheus_port is not None:
            self.prometheus = PrometheusEndpoint(
                cfg.metrics.prometheus_port, HubCollector(self), cfg.metrics.prometheus_host
            )
            self.prometheus.open()

    async def stop(self) -> None:
        if self.prometheus is not None:
            self.prometheus.close()
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    def _link_changed(self, up: bool) -> None:
        # While the hub is cut off from its broker, and for a while after, presence must not
        # read the gateways' silence or their wills (a broker restart sends them all) as gone.
        now = now_ms(self.clock)
        if up:
            self.presence.link_up(now)
        else:
            self.presence.link_down(now)

    # -- background tasks -------------------------------------------------------------------------

    async def _presence_loop(self) -> None:
        while True:
            await self.clock.sleep(self.config.presence.check_interval_s)
            self.presence.tick(now_ms(self.clock))
            await self.intake.store_hub_events()

    async def _resend_loop(self) -> None:
        while True:
            await self.clock.sleep(RESEND_CHECK_S)
            for request in self.sequence.due_resends(now_ms(self.clock)):
                record = self.registry.get(request.gateway)
                if record is None:
                    continue
                where = GatewayAddress(record.area.district, record.area.street, request.gateway)
                self.confirmer.resend(where, request)

    async def _prune_loop(self, store: SqliteStore) -> None:
        while True:
            try:
                await store.prune(now_ms(self.clock))
            except StorageError as exc:  # old points can wait; the hub must go on
                log.warning("old points not deleted, trying again in %g s: %s", PRUNE_EVERY_S, exc)
            await self.clock.sleep(PRUNE_EVERY_S)

    # -- talking to gateways ----------------------------------------------------------------------

    async def _publish_command(
        self, where: GatewayAddress, command: Confirm | Resend | Rebirth
    ) -> None:
        topic = self.link.topics.gateway(
            where.district, where.street, where.gateway, Channel.CMD, command.command
        )
        await self.link.publish(topic, encode(command))

    async def _ask_rebirth(self, where: GatewayAddress) -> None:
        now = now_ms(self.clock)
        last = self._rebirth_asked.get(where.gateway)
        if last is not None and now - last < self.config.ingest.rebirth_interval_s * 1000:
            return
        self._rebirth_asked[where.gateway] = now
        try:
            await self._publish_command(where, Rebirth(t=now))
            self.counters.add("command", "rebirth")
        except aiomqtt.MqttError as exc:
            log.warning("could not ask %s for its birth: %s", where.gateway, exc)

    async def _write(self, points: Sequence[Point]) -> None:
        """Points the hub works out itself (incidents, pages, street pictures): no message to
        acknowledge once they are durable."""
        await self.writer.add(points, Handover())

    async def _on_rejected(self, points: Sequence[Point], reason: str) -> None:
        self.counters.add("storage_rejected", "points", len(points))
        log.error("the database refused %d point(s): %s", len(points), reason)

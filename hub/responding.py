"""The hub's responding side: incidents from events, pages that must be answered, the API.

``Responding`` is one component owning the incident store, the engine, the escalator, the
incident board and the responder API. It listens to the hub's event stream (edge anomaly events
and the hub's own presence events); each change of an incident goes, in order, to the escalator
(pages and 叫应), to the board (the street's retained incident topic), to the time series
(``incident``) and to the hub's subscribers. The escalator's audit entries go to the time series
too (``page``, through ``hub.page_log.PageLog``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from urllib.parse import quote

import aiomqtt
from prometheus_client import CollectorRegistry, generate_latest

from hub.api.app import create_app
from hub.api.server import ApiServer
from hub.config import HubConfig
from hub.events import HubEvent
from hub.fanout import Located
from hub.incidents.audit import AuditAction, AuditEntry
from hub.incidents.board import IncidentBoard
from hub.incidents.engine import IncidentEngine
from hub.incidents.model import Incident
from hub.incidents.resources import HydrantWatch
from hub.incidents.store import IncidentStore
from hub.metrics import HubCollector
from hub.notify.base import Language, Message, Sender
from hub.notify.escalation import AuditLog, Escalator
from hub.notify.links import LinkSigner, RefusalReason, UsedLinks
from hub.notify.render import place_names, render
from hub.page_log import PageLog
from hub.registry import GatewayRegistry
from hub.responders import HubResponders, StoreAudit, incident_center
from hub.storage.base import Point
from hub.storage.hub_points import incident_points
from streetwatch.clock import Clock, now_ms
from streetwatch.component import Component
from streetwatch.location import Coordinates
from streetwatch.messages import AnomalyEvent
from streetwatch.topics import TopicTree

log = logging.getLogger(__name__)

Event = Located[AnomalyEvent] | HubEvent
Publish = Callable[[str, bytes], Awaitable[None]]
Write = Callable[[Sequence[Point]], Awaitable[None]]


class Responding(Component):
    def __init__(
        self,
        config: HubConfig,
        *,
        state_dir: Path,
        registry: GatewayRegistry,
        tree: TopicTree,
        publish_retained: Publish,
        collector: HubCollector,
        clock: Clock,
        write: Write | None = None,
    ) -> None:
        self.config = config
        self.state_dir = state_dir
        self.registry = registry
        self.clock = clock
        self.hydrants = HydrantWatch()
        self.board = IncidentBoard(tree, self._publish_guarded(publish_retained))
        self.changes: list[Callable[[Incident], None]] = []  # extra listeners (tests, metrics)
        self._collector = collector
        self._write = write  # into the time series (`incident` and `page`)
        self.api: ApiServer | None = None
        self._names: dict[Language, dict[str, str]] = {}

    async def start(self) -> None:
        cfg = self.config
        self.store = await self.enter(IncidentStore(self.state_dir / "incidents.sqlite3"))
        secret = cfg.api.link_secret
        if secret is None:
            log.warning(
                "no STREETWATCH_HUB_API__LINK_SECRET: acknowledgement links will stop working "
                "when the hub restarts"
            )
        key = secret.get_secret_value().encode() if secret else secrets.token_bytes(32)
        self.links = LinkSigner(key, cfg.api.base_url, cfg.api.link_ttl_s, clock=self.clock)
        self.escalator = await self.enter(
            Escalator(
                cfg.notify,
                self._senders(),
                clock=self.clock,
                audit=self._audit(),
                render=self._render,
                link=self.links.url,
            )
        )
        self.engine = await self.enter(
            IncidentEngine(cfg.incidents, self.store, clock=self.clock, on_change=self._changed)
        )
        live = await self.store.live()
        self.board.load(live)
        await self.escalator.resume([i for i in live if i.active])
        used = await self.enter(UsedLinks(self.state_dir / "links.sqlite3", clock=self.clock))
        self.service = HubResponders(
            engine=self.engine,
            store=self.store,
            notify=cfg.notify,
            city=cfg.city,
            hydrants=self.hydrants,
            sensor_position=self._position,
            metrics=self._metrics,
            clock=self.clock,
        )
        app = create_app(
            self.service, cfg.api, self.links, used, on_refused=self._link_refused, clock=self.clock
        )
        self.api = await self.enter(ApiServer(app, cfg.api))

    def _render(self, incident: Incident, *, language: Language, ack_url: str) -> Message:
        """The message, with place names in the reader's language and a map link."""
        template = self.config.notify.map_url
        center = incident_center(incident, self.config.city, self._position)
        map_url = None
        if template and center is not None:
            name = quote(f"{incident.hazard.zh} {incident.id}")
            map_url = template.format(lat=center.lat, lon=center.lon, name=name)
        names = self._names.setdefault(language, place_names(self.config.city, language))
        return render(incident, language=language, ack_url=ack_url, map_url=map_url, names=names)

    async def handle(self, event: Event) -> None:
        """One event from the hub's stream: into an incident (or recorded as ignored)."""
        if isinstance(event, HubEvent):
            await self.engine.on_hub_event(event)
        else:
            await self.engine.on_edge_event(event)

    async def consume(self, queue: asyncio.Queue[Event]) -> None:
        """Handle the events of a ``joined`` subscription (``hub.fanout``), marking each done."""
        while True:
            event = await queue.get()
            try:
                await self.handle(event)
            except Exception:  # one bad event must not stop the alarms after it
                log.exception("event %r could not be turned into an incident", event)
            finally:
                queue.task_done()

    async def _changed(self, incident: Incident, previous: Incident | None) -> None:
        await self.escalator.incident_changed(incident, previous)
        await self.board.changed(incident, now_ms(self.clock))
        if self._write is not None:
            await self._write(incident_points(incident))
        for listener in self.changes:
            listener(incident)

    def _audit(self) -> AuditLog:
        trail = StoreAudit(self.store)
        if self._write is None:
            return trail
        roles = {r.id: r.role.value for r in self.config.notify.responders}
        return PageLog(trail, incident=self.store.get, roles=roles, write=self._write)

    def _senders(self) -> dict[str, Sender]:
        senders = {}
        for name in self.config.notify.channels:
            kind, settings = self.config.notify.channel_config(name)
            senders[name] = kind.build(name, settings, self.clock)  # signing, retries: its clock
        return senders

    def _position(self, gateway: str | None, sensor: str | None) -> Coordinates | None:
        record = self.registry.get(gateway) if gateway else None
        info = record.sensors.get(sensor) if record is not None and sensor else None
        return info.placement.coordinates if info is not None else None

    def _metrics(self) -> bytes:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self._collector)
        return generate_latest(registry)

    async def _link_refused(self, reason: RefusalReason, token_prefix: str) -> None:
        entry = AuditEntry(
            now_ms(self.clock), None, AuditAction.LINK_REFUSED, detail=f"{reason} {token_prefix}"
        )
        await self.store.record(entry)

    @staticmethod
    def _publish_guarded(publish: Publish) -> Publish:
        async def guarded(topic: str, payload: bytes) -> None:
            try:
                await publish(topic, payload)
            except aiomqtt.MqttError as exc:
                log.warning("incident board not published on %s: %s", topic, exc)

        return guarded

"""The intake stage: every message from the broker, from admission to hand-over for storage.

    admit → (birth/death: registry, presence) → known gateway, right place → de-duplicate
          → points → hand over to the writer → (durable) persist sequence, PUBACK, confirm

Nothing here acknowledges a message that is not durable, except what will never be stored:
refusals (dead-lettered first), duplicates, and data of a gateway the hub does not know yet,
which stays in the gateway's outbox until the hub has its birth and confirms it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from hub.events import HubEvent, HubEventType
from hub.fanout import Fanout, Located
from hub.ingest.admit import Admitted, Refusal, admit
from hub.ingest.confirmer import Confirmer, GatewayAddress
from hub.ingest.deadletter import DeadLetters
from hub.ingest.link import Incoming
from hub.ingest.sequence import SeqKey, SequenceTracker, Verdict
from hub.presence.tracker import PresenceTracker
from hub.registry import GatewayRecord, GatewayRegistry, Refused
from hub.storage.base import Point
from hub.storage.hub_points import hub_event_points
from hub.storage.schema import Origin, event_points, health_points, state_points, telemetry_points
from streetwatch.clock import Clock, now_ms
from streetwatch.counters import Counters
from streetwatch.fast_telemetry import FastBatch, Telemetry
from streetwatch.messages import (
    AnomalyEvent,
    GatewayHealth,
    GatewayState,
    LostRange,
    TelemetryBatch,
)
from streetwatch.topics import TopicTree

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Handover:
    """What the writer hands back once the points of one message are durable."""

    incoming: Incoming | None = None
    key: SeqKey | None = None
    address: GatewayAddress | None = None
    lost: tuple[LostRange, ...] = ()  # reported in a health message: confirmed once it is stored


HandOver = Callable[[Sequence[Point], Handover], Awaitable[None]]


class Intake:
    def __init__(
        self,
        *,
        tree: TopicTree,
        registry: GatewayRegistry,
        presence: PresenceTracker,
        sequence: SequenceTracker,
        confirmer: Confirmer,
        dead_letters: DeadLetters,
        hand_over: HandOver,
        ack: Callable[[Incoming], None],
        ask_rebirth: Callable[[GatewayAddress], Awaitable[None]],
        events: Fanout[Located[AnomalyEvent] | HubEvent],
        clock: Clock,
        counters: Counters,
        observe: Callable[[Telemetry, Origin], None] | None = None,
    ) -> None:
        self.tree = tree
        self.registry = registry
        self.presence = presence
        self.sequence = sequence
        self.confirmer = confirmer
        self.dead_letters = dead_letters
        self.hand_over = hand_over
        self.ack = ack
        self.ask_rebirth = ask_rebirth
        self.events = events
        self.clock = clock
        self.counters = counters
        self.observe = observe  # sees every new telemetry batch (e.g. the hydrant watch)
        self.lag_s = 0.0
        self._origins: dict[str, tuple[GatewayRecord, Origin]] = {}
        self._refusals_reported: set[str] = set()
        self._hub_events: list[HubEvent] = []

    # -- from the broker ----------------------------------------------------------------------

    async def on_message(self, incoming: Incoming) -> None:
        await self._on_message(incoming)
        if self._hub_events:
            await self.store_hub_events()

    async def _on_message(self, incoming: Incoming) -> None:
        result = admit(self.tree, incoming.topic, incoming.payload)
        if isinstance(result, Refusal):
            await self._refuse(incoming, result)
            return
        message = result.message
        self.counters.add("received", result.topic.channel.value)
        if isinstance(message, GatewayState):
            await self._state(incoming, result, message)
            return
        topic = result.topic
        record = self.registry.get(topic.gateway)
        address = GatewayAddress(topic.district, topic.street, topic.gateway)
        if record is None:
            # Not stored and not confirmed: the gateway keeps it and sends it again after its
            # birth, which the hub asks for now.
            self.counters.add("deferred", "unknown_gateway")
            self.ack(incoming)
            await self.ask_rebirth(address)
            return
        if (record.area.district, record.area.street) != (topic.district, topic.street):
            await self._refuse(
                incoming,
                Refusal(
                    "wrong_place",
                    f"gateway {topic.gateway} is registered in {record.area.district}/"
                    f"{record.area.street}, not {topic.district}/{topic.street}",
                ),
            )
            return
        now = now_ms(self.clock)
        self.presence.heard(topic.gateway, now)
        key = SeqKey(topic.gateway, message.boot, topic.channel.value, message.seq)
        if self.sequence.admit(*key, now) is Verdict.DUPLICATE:
            self.counters.add("duplicate", key.channel)
            self.ack(incoming)
            if self.sequence.is_stored(key):  # the gateway may have missed our confirm
                self.confirmer.confirm(address, key.boot, key.channel, key.seq)
            return
        origin = self._origin(record)
        points = self._points(message, origin, now)
        if isinstance(message, AnomalyEvent):
            await self.events.join()  # the engine has it before the gateway is told it is stored
        lost = message.lost if isinstance(message, GatewayHealth) else ()
        await self.hand_over(points, Handover(incoming, key, address, lost))

    def _points(
        self, message: Telemetry | AnomalyEvent | GatewayHealth, origin: Origin, now: int
    ) -> list[Point]:
        gateway = origin.gateway
        if isinstance(message, FastBatch | TelemetryBatch):
            self.lag_s = max(0.0, (now - message.sent) / 1000)
            latest: dict[str, int] = {}
            for r in message.readings:
                sensor, t = r.sensor, r.t
                if t > latest.get(sensor, -1):
                    latest[sensor] = t
            for s in message.summaries:
                if s.end > latest.get(s.sensor, -1):
                    latest[s.sensor] = s.end
            self.presence.sensors_seen(gateway, latest)
            if self.observe is not None:
                self.observe(message, origin)
            return telemetry_points(message, origin)
        if isinstance(message, AnomalyEvent):
            self.presence.sensor_seen(gateway, message.sensor, message.t)
            area = origin.area
            placement = origin.placements.get(message.sensor)
            self.events.publish(
                Located(area.district, area.street, area.community, message, placement)
            )
            return event_points(message, origin)
        for sensor, t in message.last_seen.items():
            self.presence.sensor_seen(gateway, sensor, t)
        for lost in message.lost:
            self.sequence.lost(gateway, lost.boot, lost.channel, lost.first, lost.last, now)
        return health_points(message, origin)

    # -- births and deaths ----------------------------------------------------------------------

    async def _state(self, incoming: Incoming, admitted: Admitted, state: GatewayState) -> None:
        topic = admitted.topic
        now = now_ms(self.clock)
        if state.online:
            outcome = self.registry.register(
                topic.district, topic.street, topic.gateway, state, now
            )
            if isinstance(outcome, Refused):
                await self._refuse(incoming, Refusal(outcome.reason, outcome.detail))
                self._report_refusal(topic.district, topic.street, state, outcome, now)
                return
            self.presence.birth(topic.gateway, state.boot, now)
        else:
            record = self.registry.get(topic.gateway)
            if record is None or record.area != state.area:
                self.counters.add("ignored", "death_of_unknown_gateway")
                self.ack(incoming)
                return
            self.presence.death(topic.gateway, state.boot, now)
        record = self.registry.get(topic.gateway)
        assert record is not None
        await self.hand_over(state_points(state, self._origin(record)), Handover(incoming))

    def _report_refusal(
        self, district: str, street: str, state: GatewayState, refused: Refused, now: int
    ) -> None:
        event_id = f"{HubEventType.GATEWAY_REFUSED}:{state.gateway}:{state.boot}:{refused.reason}"
        if event_id in self._refusals_reported:
            return
        self._refusals_reported.add(event_id)
        log.warning("gateway %s refused: %s", state.gateway, refused.detail)
        self.publish_hub_event(
            HubEvent(
                id=event_id,
                type=HubEventType.GATEWAY_REFUSED,
                t=now,
                district=district,
                street=street,
                gateway=state.gateway,
                detail=refused.detail,
            )
        )

    def publish_hub_event(self, event: HubEvent) -> None:
        """Pass on one of the hub's own events now; it is stored by ``store_hub_events``."""
        self.counters.add("hub_event", event.type.value)
        self.events.publish(event)
        self._hub_events.append(event)

    async def store_hub_events(self) -> None:
        events, self._hub_events = self._hub_events, []
        for event in events:
            await self.hand_over(hub_event_points(event), Handover())

    # -- the rest ---------------------------------------------------------------------------------

    async def _refuse(self, incoming: Incoming, refusal: Refusal) -> None:
        self.counters.add("rejected", refusal.reason)
        log.info("refused %s: %s", incoming.topic, refusal.detail)
        await self.dead_letters.add(
            incoming.topic, incoming.payload, refusal.reason, refusal.detail, now_ms(self.clock)
        )
        self.ack(incoming)

    def _origin(self, record: GatewayRecord) -> Origin:
        cached = self._origins.get(record.gateway)
        if cached is not None and cached[0] is record:
            return cached[1]
        origin = Origin(
            area=record.area,
            gateway=record.gateway,
            placements={sid: s.placement for sid, s in record.sensors.items()},
        )
        self._origins[record.gateway] = (record, origin)
        return origin

    async def on_durable(self, handovers: Sequence[Handover]) -> None:
        """The writer made these durable: remember, acknowledge, confirm (in that order)."""
        keys = [h.key for h in handovers if h.key is not None]
        if keys:
            await self.sequence.stored(keys)
        for h in handovers:
            if h.incoming is not None:
                self.ack(h.incoming)
            if h.key is not None and h.address is not None:
                self.confirmer.confirm(h.address, h.key.boot, h.key.channel, h.key.seq)
                # Lost ranges were saved with this message's sequence state: now the gateway may
                # stop reporting them.
                for r in h.lost:
                    self.confirmer.confirm(h.address, r.boot, r.channel, r.first, r.last)

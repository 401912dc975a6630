"""The hub's intake at the function level: what the MQTT loop calls per message, on real files.

``running_intake`` wires ``hub.ingest.intake.Intake`` as ``hub.service.Hub.start`` does, minus
the broker: the registry, dead letters, sequence store, time-series store (SQLite) and spool
are real files in ``state_dir``, the store writer and confirmer are the real components, time
is a ``ManualClock``, settings are hub.yaml's defaults. The link's side is recorded instead of
sent: ``acked`` (PUBACKs), ``rebirths`` and ``commands`` (confirms, resends). ``handed`` lists
every message whose points went to the writer. ``feed`` hands one message to
``Intake.on_message``, as ``HubLink`` does; ``answer`` does too and says what became of it.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hub.config import IngestConfig
from hub.events import HubEvent
from hub.fanout import Fanout, Located
from hub.ingest.confirmer import Confirmer, GatewayAddress
from hub.ingest.deadletter import DeadLetters
from hub.ingest.intake import Handover, Intake
from hub.ingest.link import Incoming
from hub.ingest.seqstore import SeqStore
from hub.ingest.sequence import SequenceTracker
from hub.presence.config import PresenceConfig
from hub.presence.tracker import PresenceTracker
from hub.registry import GatewayRegistry
from hub.storage.base import Point, QueryFilter
from hub.storage.config import SqliteStoreConfig, StorageConfig
from hub.storage.spool import Spool
from hub.storage.sqlite_store import SqliteStore
from hub.storage.writer import StoreWriter
from reliability.payloads import city
from streetwatch.clock import ManualClock, now_ms
from streetwatch.counters import Counters
from streetwatch.messages import AnomalyEvent, Confirm, Rebirth, Resend
from streetwatch.topics import TopicTree

PREFIX = "t-reliability"
OUTCOMES = ("rejected", "duplicate", "deferred", "ignored")
"""Counters of messages the hub answered without storing; a stored one is in ``handed``."""


@dataclass
class IntakeRun:
    intake: Intake
    tree: TopicTree
    clock: ManualClock
    counters: Counters
    dead_letters: DeadLetters
    sequence: SequenceTracker
    store: SqliteStore
    writer: StoreWriter[Handover]
    events: Fanout[Located[AnomalyEvent] | HubEvent]  # nobody subscribes unless a test does
    mids: list[int] = field(default_factory=list)  # every message fed
    acked: list[int] = field(default_factory=list)  # mids, in PUBACK order
    handed: list[Handover] = field(default_factory=list)
    rebirths: list[GatewayAddress] = field(default_factory=list)
    commands: list[Confirm | Resend | Rebirth] = field(default_factory=list)
    _mids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def feed(self, topic: str, payload: bytes) -> Incoming:
        incoming = Incoming(topic, payload, qos=1, retain=False, mid=next(self._mids), session=1)
        self.mids.append(incoming.mid)
        await self.intake.on_message(incoming)
        return incoming

    async def answer(self, topic: str, payload: bytes) -> str:
        """Feed one message; how the hub answered it: ``stored``, ``duplicate``, ``deferred``,
        ``ignored`` or ``rejected:<reason>``. Fails unless exactly one of them happened, unless
        a rejection was dead-lettered under the reason it was counted with, and unless the
        message was acknowledged at once (not stored) or not yet (stored, not yet durable)."""
        counts, handed = self._counts(), len(self.handed)
        letters, by_reason = len(self.dead_letters), self.dead_letters.counts()
        mid = (await self.feed(topic, payload)).mid
        grown = self._counts() - counts
        answers = [f"{what}:{reason}" if what == "rejected" else what for what, reason in grown]
        answers += ["stored"] * (len(self.handed) - handed)
        assert grown.total() + len(self.handed) - handed == 1, (topic, payload[:300], answers)
        rejected = Counter({r: n for (w, r), n in grown.items() if w == "rejected"})
        assert len(self.dead_letters) - letters == rejected.total(), (topic, answers)
        assert Counter(self.dead_letters.counts()) - Counter(by_reason) == rejected, answers
        # Acknowledged at once unless stored; a stored one once its points are durable.
        assert (mid in self.acked) == (answers[0] != "stored"), answers
        return answers[0]

    def check_acknowledged(self) -> None:
        """After ``writer.flush``: every message fed was acknowledged, exactly once."""
        acked = Counter(self.acked)
        assert acked == Counter(self.mids), (acked - Counter(self.mids), Counter(self.mids) - acked)

    def _counts(self) -> Counter[tuple[str, str]]:
        return Counter({(w, r): n for w, r, n in self.counters.items() if w in OUTCOMES})

    async def stored_points(self, measurement: str) -> list[tuple[str, int]]:
        """(sensor or gateway, time) of every point of ``measurement`` in the store."""
        rows = await self.store.query(
            QueryFilter(since_ms=0, measurement=measurement, limit=1_000_000)
        )
        return [(r.tags.get("sensor") or r.tags.get("gateway", ""), r.time_ms) for r in rows]


@asynccontextmanager
async def running_intake(state_dir: Path, start_ms: int) -> AsyncIterator[IntakeRun]:
    """An intake on fresh files in ``state_dir`` (it exists), its clock at ``start_ms``, the
    link up."""
    clock = ManualClock(start_ms / 1000)
    ingest = IngestConfig()
    storage = StorageConfig(sqlite=SqliteStoreConfig(path=Path("store.sqlite3")))
    counters = Counters()
    tree = TopicTree(PREFIX)
    registry = GatewayRegistry(city(), state_dir / "registry.json").open()
    events: Fanout[Located[AnomalyEvent] | HubEvent] = Fanout()
    run: IntakeRun | None = None

    def hub_event(event: HubEvent) -> None:
        assert run is not None
        run.intake.publish_hub_event(event)

    presence = PresenceTracker(PresenceConfig(), registry, emit=hub_event)

    async def command(where: GatewayAddress, cmd: Confirm | Resend | Rebirth) -> None:
        assert run is not None
        run.commands.append(cmd)

    async def ask_rebirth(where: GatewayAddress) -> None:
        assert run is not None
        run.rebirths.append(where)

    async def hand_over(points: Sequence[Point], handover: Handover) -> None:
        assert run is not None
        if handover.incoming is not None:
            run.handed.append(handover)
        await run.writer.add(points, handover)

    def ack(incoming: Incoming) -> None:
        assert run is not None
        run.acked.append(incoming.mid)

    async with AsyncExitStack() as stack:
        dead_letters = await stack.enter_async_context(
            DeadLetters(
                state_dir / "dead-letters.sqlite3",
                max_entries=ingest.dead_letters,
                max_payload_bytes=ingest.dead_letter_payload_bytes,
            )
        )
        seq_store = await stack.enter_async_context(SeqStore(state_dir / "sequence.sqlite3"))
        sequence = await stack.enter_async_context(
            SequenceTracker(
                seq_store,
                reorder_timeout_s=ingest.reorder_timeout_s,
                resend_max_interval_s=ingest.resend_max_interval_s,
                boots_per_gateway=ingest.boots_per_gateway,
            )
        )
        store = await stack.enter_async_context(SqliteStore(storage.sqlite, state_dir))
        spool = await stack.enter_async_context(Spool(state_dir / "spool.sqlite3", 2**26))
        confirmer = await stack.enter_async_context(
            Confirmer(command, clock=clock, interval_s=ingest.confirm_interval_s)
        )

        async def on_durable(handovers: Sequence[Handover]) -> None:
            await intake.on_durable(handovers)

        writer: StoreWriter[Handover] = await stack.enter_async_context(
            StoreWriter(store, spool, storage, clock=clock, on_durable=on_durable)
        )
        intake = Intake(
            tree=tree,
            registry=registry,
            presence=presence,
            sequence=sequence,
            confirmer=confirmer,
            dead_letters=dead_letters,
            hand_over=hand_over,
            ack=ack,
            ask_rebirth=ask_rebirth,
            events=events,
            clock=clock,
            counters=counters,
        )
        presence.link_up(now_ms(clock))
        run = IntakeRun(
            intake, tree, clock, counters, dead_letters, sequence, store, writer, events
        )
        yield run
        await writer.flush()

"""The enqueue stage: findings become events, samples become batches, all into the outbox.

Sequence numbers are assigned here, once, so a record keeps its number through every resend.
Events and health are never refused by the outbox (its quota applies to telemetry only).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from edge.config import GatewayIdentity, ReportingConfig, SensorConfig
from edge.detectors.base import Finding
from edge.outbox import AddOutcome, Lane, Outbox
from edge.sequence import Sequencer
from streetwatch.anomalies import AnomalyType
from streetwatch.clock import Clock, now_ms
from streetwatch.codec import encode
from streetwatch.counters import Counters
from streetwatch.messages import (
    AnomalyEvent,
    GatewayHealth,
    Reading,
    TelemetryBatch,
    WindowSummary,
)
from streetwatch.topics import Channel


class Enqueuer:
    def __init__(
        self,
        identity: GatewayIdentity,
        reporting: ReportingConfig,
        sequencer: Sequencer,
        outbox: Outbox,
        *,
        clock: Clock,
        counters: Counters,
    ) -> None:
        self.identity = identity
        self.reporting = reporting
        self.sequencer = sequencer
        self.outbox = outbox
        self.clock = clock
        self.counters = counters
        self._pending: list[Reading] = []
        self._pending_since_ms: int | None = None
        # Streamed samples (the message and tick tasks) and summaries (the summary task) are
        # stored concurrently; one at a time, or two batches would get the same number.
        self._telemetry_lock = asyncio.Lock()

    def make_event(
        self, sensor: SensorConfig, finding: Finding, *, test: bool = False
    ) -> AnomalyEvent:
        seq = self.sequencer.next(Channel.EVENT)
        return AnomalyEvent(
            id=self.sequencer.event_id(self.identity.id, seq),
            gateway=self.identity.id,
            boot=self.sequencer.boot,
            seq=seq,
            sensor=sensor.id,
            kind=sensor.kind,
            type=finding.type,
            level=finding.level,
            state=finding.state,
            t=finding.t,
            metric=finding.metric,
            value=finding.value,
            threshold=finding.threshold,
            test=test or finding.type is AnomalyType.TEST,
            detail=finding.detail[:200],
        )

    async def event(
        self, sensor: SensorConfig, finding: Finding, *, test: bool = False
    ) -> AnomalyEvent:
        """Turn a finding into an event and store it durably before returning."""
        event = self.make_event(sensor, finding, test=test)
        outcome = await self.outbox.add(
            Lane.EVENT,
            Channel.EVENT.value,
            event.boot,
            event.seq,
            encode(event),
            now_ms(self.clock),
        )
        self._count(outcome, "event")
        return event

    def stream(self, readings: Sequence[Reading]) -> None:
        """Queue samples to send as soon as a batch is full or ``batch_wait_s`` has passed."""
        if readings and self._pending_since_ms is None:
            self._pending_since_ms = now_ms(self.clock)
        self._pending.extend(readings)

    def batch_due(self) -> bool:
        if not self._pending:
            return False
        if len(self._pending) >= self.reporting.batch_max:
            return True
        waited = now_ms(self.clock) - (self._pending_since_ms or 0)
        return waited >= self.reporting.batch_wait_s * 1000

    async def flush_stream(self) -> int:
        """Store the queued samples as telemetry batches; returns how many batches."""
        readings, self._pending, self._pending_since_ms = self._pending, [], None
        return await self._telemetry(readings=readings)

    async def summaries(self, summaries: Sequence[WindowSummary]) -> int:
        return await self._telemetry(summaries=summaries)

    async def _telemetry(
        self, *, readings: Sequence[Reading] = (), summaries: Sequence[WindowSummary] = ()
    ) -> int:
        async with self._telemetry_lock:
            return await self._store_telemetry(readings, summaries)

    async def _store_telemetry(
        self, readings: Sequence[Reading], summaries: Sequence[WindowSummary]
    ) -> int:
        size = self.reporting.batch_max
        batches = 0
        for start in range(0, max(len(readings), len(summaries)), size):
            # A refused batch must not burn a sequence number, or the hub would wait for a
            # record that never existed: take the number only once the outbox accepted it.
            seq = self.sequencer.peek(Channel.DATA)
            batch = TelemetryBatch(
                gateway=self.identity.id,
                boot=self.sequencer.boot,
                seq=seq,
                sent=now_ms(self.clock),
                readings=tuple(readings[start : start + size]),
                summaries=tuple(summaries[start : start + size]),
            )
            outcome = await self.outbox.add(
                Lane.TELEMETRY, Channel.DATA.value, batch.boot, seq, encode(batch), batch.sent
            )
            self._count(outcome, "telemetry")
            if outcome is not AddOutcome.DROPPED_QUOTA:
                self.sequencer.next(Channel.DATA)
                batches += 1
        return batches

    async def health(self, message: GatewayHealth) -> None:
        outcome = await self.outbox.add(
            Lane.STATE, Channel.HEALTH.value, message.boot, message.seq, encode(message), message.t
        )
        self._count(outcome, "health")

    def _count(self, outcome: AddOutcome, what: str) -> None:
        if outcome is not AddOutcome.DROPPED_QUOTA:
            self.counters.add("enqueued", what)
        else:
            self.counters.add("dropped", f"{what}_{outcome.value}")

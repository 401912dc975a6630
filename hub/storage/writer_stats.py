"""What the store writer reports about itself (for health, metrics and the bench)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Backend write latency over the last ``count`` successful writes (at most
    :data:`LatencyWindow.size`), in seconds on the writer's clock; ``None`` before any."""

    count: int
    p50_s: float | None
    p99_s: float | None


@dataclass(frozen=True, slots=True)
class WriterStats:
    written_points: int
    """Points written to the backend straight from memory."""
    spooled_points: int
    """Points appended to the spool (the backend was down or slow, or the spool was not empty)."""
    drained_points: int
    """Points written from the spool to the backend."""
    rejected_points: int
    """Points the backend refused (reported to ``on_rejected``; their tokens are durable)."""
    write_failures: int
    """Backend writes that failed or timed out (each one is retried or spooled)."""
    pending_points: int
    """Points in memory, not yet durable anywhere."""
    spool_points: int
    spool_bytes: int
    spool_batches: int
    last_write_s: float | None
    """When the backend last took a write (``clock.now()``), ``None`` before it did."""
    write_latency: LatencySummary
    backend_up: bool
    """Whether the last write reached the backend (a refused write did)."""


class LatencyWindow:
    """The most recent write latencies."""

    size = 1024

    def __init__(self) -> None:
        self._recent: deque[float] = deque(maxlen=self.size)

    def record(self, seconds: float) -> None:
        self._recent.append(seconds)

    def summary(self) -> LatencySummary:
        ordered = sorted(self._recent)
        if not ordered:
            return LatencySummary(0, None, None)
        return LatencySummary(len(ordered), _rank(ordered, 0.50), _rank(ordered, 0.99))


def _rank(ordered: list[float], q: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]

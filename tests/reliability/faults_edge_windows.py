"""Which summary window counts a reading, for the books of the edge-side fault cases.

A reading is counted by the window summary of its sensor that covers its time: the device's
time, or the gateway's receive time when the gateway finds the device's implausible
(``expected_time``). A device whose clock is behind the gateway's has its samples arrive after
their window was summarised (``arrives_late``); each then goes into the next window. ``fates``
reads the windows a gateway summarised from the ledger of its outbox, with what became of each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from edge.outbox import AddOutcome, NewRecord
from edge.validate import DEFAULT_LIMITS
from streetwatch.codec import decode_channel
from streetwatch.kinds import KINDS
from streetwatch.messages import TelemetryBatch
from streetwatch.topics import Channel

from .faults_edge_devices import Published
from .faults_edge_gateway import WINDOW_S

__all__ = ["Window", "arrives_late", "expected_time", "fates", "window_end"]


@dataclass(frozen=True, slots=True)
class Window:
    """One summary window of a sensor: ``start`` to ``end`` (ms, the end excluded) on the
    gateway's clock, and how many readings it counts."""

    sensor: str
    start: int
    end: int
    count: int


def expected_time(p: Published, gateway_offset_ms: int) -> int:
    """The time the gateway gives a sample: its device's, unless the gateway's clock finds it
    implausible (edge/validate.py), then the gateway's receive time (here: its publish time on
    the gateway's clock; the windows do not tell the few ms apart)."""
    received = p.real_ms + gateway_offset_ms
    skew = p.t_ms - received
    if skew > DEFAULT_LIMITS.max_future_ms or -skew > DEFAULT_LIMITS.max_age_ms:
        return received
    return p.t_ms


def arrives_late(published: Iterable[Published], gateway_offset_ms: int) -> bool:
    """Whether a sensor's samples reach the gateway after their window has ended (its device's
    clock is behind the gateway's): each then goes into the next window not yet summarised."""
    for p in published:
        t = expected_time(p, gateway_offset_ms)
        if window_end(t) <= p.real_ms + gateway_offset_ms:
            return True
    return False


def window_end(t: int) -> int:
    return t - t % (WINDOW_S * 1000) + WINDOW_S * 1000


def fates(
    ledger: Iterable[tuple[NewRecord, AddOutcome]], lost: dict[tuple[str, str], set[int]]
) -> dict[str, list[tuple[Window, str]]]:
    """Per sensor, the windows summarised in the telemetry records of a gateway's ledger, with
    what became of each: ``stored`` (in the outbox, or sent), ``refused`` (over the quota), or
    ``lost`` (evicted for an alarm, and the hub told: ``lost`` has its seq)."""
    out: dict[str, list[tuple[Window, str]]] = defaultdict(list)
    for record, outcome in ledger:
        if record.channel != Channel.DATA.value:
            continue
        fate = "refused" if outcome is AddOutcome.DROPPED_QUOTA else "stored"
        if fate == "stored" and record.seq in lost.get((record.boot, record.channel), set()):
            fate = "lost"
        batch = decode_channel(record.payload, Channel.DATA)
        assert isinstance(batch, TelemetryBatch)
        for summary in batch.summaries:
            stats = summary.stats.get(KINDS[summary.kind].primary)
            window = Window(summary.sensor, summary.start, summary.end, stats.count if stats else 0)
            out[summary.sensor].append((window, fate))
    return out

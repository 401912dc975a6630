"""The readings' half of the books of the edge-side fault cases (``ReadingBooks``).

Each reading a device published is counted by exactly one window summary of its sensor that
covers its time: one the hub stored, or (in process, from the outbox ledger) one the gateway
refused or evicted and told the hub of; around a kill, maybe by none. Each sample stored on its
own (streamed during an anomaly) is one that was published, at its time, with its value.
``Books`` (faults_edge_books.py) collects what these checks read and runs them with the others.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from edge.outbox import AddOutcome, NewRecord
from hub.storage.base import Row
from streetwatch.kinds import KindName

from .faults_edge_gateway import WINDOW_S
from .faults_edge_windows import Window, arrives_late, expected_time, fates

if TYPE_CHECKING:
    from .faults_edge_stand import Stand

__all__ = ["ReadingBooks"]


class ReadingBooks:
    """Published readings against the windows that count them; streamed samples against the
    published ones. What they compare is collected by ``Books.collect``."""

    stand: Stand
    windows: list[Window]  # stored at the hub
    raw: dict[KindName, list[Row]]  # the samples stored one by one, per kind
    ledger: list[tuple[NewRecord, AddOutcome]]  # the gateway's outbox ledger (in process)
    lost_seqs: dict[tuple[str, str], set[int]]  # (boot, channel) → seqs the hub knows lost
    problems: list[str]
    table: list[tuple[str, ...]]

    def _problem(self, text: str) -> None:
        self.problems.append(text)

    def edge_windows(self) -> dict[str, list[tuple[Window, str]]]:
        """Per sensor, the windows of the gateway's ledger and their fates (see ``fates``)."""
        return fates(self.ledger, self.lost_seqs)

    def _check_readings(self) -> None:
        """Each published reading is counted by exactly one window: one the hub stored, or one
        the gateway refused or evicted (and told the hub of); around a kill, maybe by none."""
        s = self.stand
        hub_windows: dict[str, list[Window]] = defaultdict(list)
        for w in self.windows:
            hub_windows[w.sensor].append(w)
        edge_windows = self.edge_windows()
        for sensor in s.devices.devices:
            times = sorted(
                expected_time(p, s.gateway_offset_ms) for p in s.devices.published(sensor)
            )
            windows: list[tuple[Window, str]] = [(w, "stored") for w in hub_windows[sensor]]
            if self.ledger:
                self._compare_with_ledger(sensor, edge_windows[sensor], hub_windows[sensor])
                windows += [(w, fate) for w, fate in edge_windows[sensor] if fate != "stored"]
            windows.sort(key=lambda wf: wf[0].start)
            for (a, _), (b, _) in itertools.pairwise(windows):
                if b.start < a.end:
                    self._problem(f"{sensor}: windows overlap: {a} and {b}")
            late = arrives_late(s.devices.published(sensor), s.gateway_offset_ms)
            fates: Counter[str] = Counter()
            for w, fate in windows:
                fates[fate] += w.count
            if late:
                self._check_late_windows(sensor, times, [w for w, _ in windows])
            for w, fate in [] if late else windows:
                inside = sum(1 for t in times if w.start <= t < w.end)
                near_kill = any(lo < w.end and w.start < hi for lo, hi in s.lost_in_kill)
                if w.count != inside and not (near_kill and w.count < inside):
                    self._problem(
                        f"{sensor}: window {w.start}..{w.end} ({fate}) counts {w.count} "
                        f"readings, {inside} were published in it"
                    )
            stray = [
                t
                for t in times
                if not late
                and not any(w.start <= t < w.end for w, _ in windows)
                and not any(lo <= t < hi for lo, hi in s.lost_in_kill)
            ]
            if stray:
                self._problem(f"{sensor}: {len(stray)} readings in no window, e.g. at {stray[:3]}")
            unacknowledged = len(times) - sum(fates.values())
            self.table.append(
                ("readings", sensor, str(len(times)), str(fates["stored"]), str(fates["lost"]),
                 f"refused {fates['refused']}, never acknowledged {unacknowledged}")
            )  # fmt: skip
            if not times:
                self._problem(f"{sensor}: nothing was published")

    def _check_raw(self) -> None:
        """Samples sent one by one (streamed while an anomaly is active) are stored at their
        time with their value: each is one the device published (re-timed ones: within 2 s of
        when it was published, on the gateway's clock)."""
        s = self.stand
        for sensor, device in s.devices.devices.items():
            published = s.devices.published(sensor)
            by_time = {expected_time(p, s.gateway_offset_ms): p for p in published}
            rows = [r for r in self.raw[device.kind] if r.tags["sensor"] == sensor]
            for row in rows:
                value = float(row.fields[device.primary])
                p = by_time.get(row.time_ms)
                if p is not None and math.isclose(p.value, value, rel_tol=1e-9):
                    continue
                received = [
                    q
                    for q in published
                    if expected_time(q, s.gateway_offset_ms) != q.t_ms
                    and 0 <= row.time_ms - (q.real_ms + s.gateway_offset_ms) < 2000
                    and math.isclose(q.value, value, rel_tol=1e-9)
                ]
                if not received:
                    self._problem(
                        f"{sensor}: stored sample {row.time_ms} = {value} was never published"
                    )
            self.table.append(("streamed", sensor, "", str(len(rows)), "", ""))

    def _check_late_windows(self, sensor: str, times: list[int], windows: list[Window]) -> None:
        """A device whose clock is behind the gateway's (but less than 24 h: trusted) has its
        samples arrive after their window was summarised: each goes into the next window
        (edge/reporting.py). In order, each window counts the next readings, none of them
        later than its end nor more than one window earlier than its start."""
        queue = list(times)
        for w in windows:
            taken, queue = queue[: w.count], queue[w.count :]
            if len(taken) < w.count:
                self._problem(
                    f"{sensor}: window {w.start}..{w.end} counts readings never published"
                )
            wrong = [t for t in taken if not w.start - WINDOW_S * 1000 <= t < w.end]
            if wrong:
                self._problem(f"{sensor}: window {w.start}..{w.end} counts readings of {wrong}")
        if queue:
            self._problem(f"{sensor}: {len(queue)} readings counted by no window, from {queue[0]}")

    def _compare_with_ledger(
        self, sensor: str, ledger: list[tuple[Window, str]], stored: list[Window]
    ) -> None:
        kept = Counter((w.start, w.end, w.count) for w, fate in ledger if fate == "stored")
        at_hub = Counter((w.start, w.end, w.count) for w in stored)
        if kept != at_hub:
            self._problem(
                f"{sensor}: windows the gateway kept vs stored at the hub: "
                f"missing {sorted((kept - at_hub).elements())[:5]}, "
                f"extra {sorted((at_hub - kept).elements())[:5]}"
            )

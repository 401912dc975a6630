"""The books of an edge-side fault case (``Books``): one count at its end, a table if it fails.

- every reading the devices published is counted by one window the hub stored (or the gateway
  refused or evicted), every streamed sample is one that was published (faults_edge_readings.py);
- every telemetry and event record the gateway numbered is at the hub, stored or reported lost,
  never both; no event reported lost; the hub's ``anomaly_event`` holds exactly the gateway's
  events, each once, by id;
- the hub knows how much telemetry the gateway dropped;
- one incident per hazard and place; no page about an incident after it was answered, none
  scheduled.

What the gateway numbered comes from its own books: its counters, the ``LedgerOutbox`` (every
record offered to its outbox and the outcome) in process, and for a killed process the outbox
file as the kill left it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from edge.outbox import AddOutcome

from .faults_edge_gateway import EdgeInProcess
from .faults_edge_readings import ReadingBooks

if TYPE_CHECKING:
    from .faults_edge_stand import Stand

__all__ = ["Books"]


class Books(ReadingBooks):
    """Published against accepted, stored, reported lost; events; incidents; pages."""

    def __init__(self, stand: Stand) -> None:
        self.stand = stand
        self.problems: list[str] = []
        self.table: list[tuple[str, ...]] = []

    async def collect(self) -> None:
        s = self.stand
        self.windows = await s.stored_windows()
        self.raw = {k: await s.rows(k.value) for k in {d.kind for d in s.devices.devices.values()}}
        self.events = await s.rows("anomaly_event")
        self.health = await s.rows("gateway_health")
        self.stored_seqs = await s.hub_seqs("stored")
        self.lost_seqs = await s.hub_seqs("lost")
        self.status = await s.edge.status()
        self.incidents = await s.hub.responding.store.recent(1000)
        self.pending = s.hub.responding.escalator.pending()
        self.pages = s.pages()
        self.ledger = s.edge.outbox.ledger if isinstance(s.edge, EdgeInProcess) else []

    # -- what the gateway numbered --------------------------------------------------------

    def numbered(self) -> dict[tuple[str, str], set[int]]:
        """(boot, channel) → every seq the gateway gave a record, from its own books: the
        ledger (in-process), the live agent's counters, and for a killed boot its outbox file
        as the kill left it (what it held) with what the hub had confirmed (it held no more)."""
        out: dict[tuple[str, str], set[int]] = defaultdict(set)
        for record, outcome in self.ledger:
            if outcome is not AddOutcome.DROPPED_QUOTA:
                out[(record.boot, record.channel)].add(record.seq)
        counters = {(w, r): n for w, r, n in self.status.get("counters", [])}
        live = str(self.status.get("boot", ""))
        for channel, reason in (("event", "event"), ("data", "telemetry")):
            out[(live, channel)].update(range(counters.get(("enqueued", reason), 0)))
        for boot, channel, seq, _ in self.stand.killed_records:
            out[(boot, channel)].add(seq)
        for (boot, channel), seqs in self.stored_seqs.items():
            if boot in self.stand.killed_boots:
                held = out[(boot, channel)]
                held.update(range(max(seqs | held) + 1))
        return out

    # -- the checks -----------------------------------------------------------------------

    def check(self, *, events_at_least: int) -> None:
        self._check_records()
        self._check_readings()
        self._check_raw()
        self._check_events(events_at_least)
        self._check_health()
        self._check_incidents_and_pages()
        if self.problems:
            raise AssertionError(self.report())

    def _boot_number(self, boot: str) -> str:
        boots = self.stand.boots
        return f"{boots.index(boot) + 1} ({boot[:6]})" if boot in boots else boot[:6]

    def _check_records(self) -> None:
        """Every record numbered is stored at the hub or reported lost, never both."""
        numbered = self.numbered()
        for (boot, channel), seqs in sorted(numbered.items()):
            if channel not in ("data", "event"):
                continue
            stored = self.stored_seqs.get((boot, channel), set())
            lost = self.lost_seqs.get((boot, channel), set())
            which = f"{channel}, boot {self._boot_number(boot)}"
            self.table.append(
                ("records", which, str(len(seqs)), str(len(stored)), str(len(lost)), "")
            )
            if missing := seqs - stored - lost:
                self._problem(f"{channel} {boot}: numbered but neither stored nor lost: "
                              f"{sorted(missing)[:20]}")  # fmt: skip
            if both := stored & lost:
                self._problem(f"{channel} {boot}: stored and reported lost: {sorted(both)[:20]}")
            if extra := (stored | lost) - seqs:
                self._problem(f"{channel} {boot}: the hub has seqs never numbered: "
                              f"{sorted(extra)[:20]}")  # fmt: skip
            if channel == "event" and lost:
                self._problem(f"events reported lost: {sorted(lost)}")

    def _check_events(self, at_least: int) -> None:
        """Every event the gateway numbered is in the hub's store, once, under its own id."""
        numbered = self.numbered()
        ids = Counter(str(r.fields["id"]) for r in self.events)
        expected = {
            f"{self.stand.gateway}.{boot}.{seq}"
            for (boot, channel), seqs in numbered.items()
            if channel == "event"
            for seq in seqs
        }
        self.table.append(
            ("events", "all boots", str(len(expected)), str(len(ids)), "0",
             f"twice {sum(1 for n in ids.values() if n > 1)}")
        )  # fmt: skip
        if set(ids) != expected:
            self._problem(
                f"events raised at the edge vs stored: missing {sorted(expected - set(ids))[:5]},"
                f" unknown {sorted(set(ids) - expected)[:5]}"
            )
        if doubled := [i for i, n in ids.items() if n > 1]:
            self._problem(f"events stored twice: {doubled[:5]}")
        if len(expected) < at_least:
            self._problem(f"only {len(expected)} events raised, the case needs {at_least}")

    def _check_health(self) -> None:
        """The hub knows how much telemetry the gateway dropped: its latest health says so."""
        dropped = sum(self.status.get("buffer", {}).get("dropped", {}).values())
        latest = max(self.health, key=lambda r: r.time_ms, default=None)
        told = int(latest.fields["dropped_total"]) if latest is not None else 0
        self.table.append(("dropped", "telemetry records", str(dropped), "", str(told), "(hub)"))
        if dropped and told != dropped:
            self._problem(f"the gateway dropped {dropped} telemetry records, its last health "
                          f"at the hub says {told}")  # fmt: skip

    def _check_incidents_and_pages(self) -> None:
        """One incident per hazard and place; nobody paged about an answered incident."""
        keys = Counter(i.key for i in self.incidents)
        for key, n in sorted(keys.items()):
            self.table.append(("incidents", key, str(n), "", "", ""))
            if n > 1:
                self._problem(f"incident {key} opened {n} times")
        pending = {p.incident_id for p in self.pending}
        per: Counter[tuple[str, str]] = Counter((p.incident, p.responder) for p in self.pages)
        for incident in self.incidents:
            after = [
                p
                for p in self.pages
                if p.incident == incident.id
                and incident.acknowledged_at is not None
                and p.sent_at > incident.acknowledged_at
            ]
            for (inc, who), n in sorted(per.items()):
                if inc == incident.id:
                    self.table.append(
                        ("pages", f"{incident.hazard} {who}", str(n), incident.state.value,
                         str(len([p for p in after if p.responder == who])), "")
                    )  # fmt: skip
            if incident.acknowledged_at is None:
                continue
            if after:
                self._problem(
                    f"{incident.id} ({incident.key}) paged after it was answered: {after}"
                )
            if incident.id in pending:
                self._problem(f"{incident.id} answered but still has pages scheduled")

    def report(self) -> str:
        head = ("what", "which", "published/numbered", "stored", "lost", "")
        rows = [head, *self.table]
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        problems = ["", "what does not add up:", *self.problems] if self.problems else []
        return "\n".join(["the books of the case:", *lines, *problems])

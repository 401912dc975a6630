"""Matching incidents to the ground truth, and scoring each hazard.

An incident *matches* a true hazard when the hazard agrees, it opened or was reopened within
[start - 60 s, end + grace] and the places overlap (the hub reopens a resolved incident when the
same kind of hazard comes back to its place within ``close_after_s``, and pages anew at a level
that pages: that reopening is the hazard's detection):

* street incident: same district, its street one of the hazard's, and the same community and
  building where both name one;
* district incident: same district, and one of its streets among the hazard's (or none listed);
* city incident: the hazard's district among its districts (or none listed).

Per hazard: detected or missed; times to detect (first match (re)opened), to first page (first
delivered page of a match from that (re)opening on) and to acknowledgement (first answer from
then on), all from the hazard's start so they read as one timeline; the level reached (highest
of the matches; of a reopened incident, the highest of its lives begun in the hazard's window,
where ``peaks`` says) against the level deserved; duplicates (more than one match of the same
scope and street; a district incident over street incidents is not one). Snapshots of one
incident (same id) are merged first.

An incident matching no hazard is *explained* when faults or nuisances recorded around its opening
account for all its sensors (gateways, when it names no sensor; its place, when neither): a fault
behind a device incident is a fault correctly reported; otherwise it is a false alarm. An
unexplained one is a false incident.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from simulators.score.observed import ObservedAck, ObservedIncident, ObservedPage
from simulators.score.result import (
    Cause,
    HazardOutcome,
    Score,
    Summary,
    Timing,
    UnmatchedIncident,
)
from simulators.truth import TruthKind, TruthRecord
from streetwatch.anomalies import Hazard
from streetwatch.levels import Level

LEAD_MS = 60_000  # an incident may open this long before the recorded start
DEFAULT_GRACE_MS = 300_000  # ...and this long after the recorded end


def score(
    truth: Sequence[TruthRecord],
    incidents: Iterable[ObservedIncident],
    pages: Iterable[ObservedPage] = (),
    acks: Iterable[ObservedAck] = (),
    *,
    grace_ms: int = DEFAULT_GRACE_MS,
) -> Score:
    merged: dict[str, ObservedIncident] = {}
    for i in incidents:
        merged[i.id] = merged[i.id].merged(i) if i.id in merged else i
    paged = _times((p.incident_id, p.t) for p in pages if p.delivered)
    acked = _times((a.incident_id, a.t) for a in acks)
    others = [t for t in truth if t.kind is not TruthKind.HAZARD]
    outcomes: list[HazardOutcome] = []
    matched: set[str] = set()
    for t in (t for t in truth if t.kind is TruthKind.HAZARD):
        hits = [
            _Hit(i, *raised)
            for i in merged.values()
            if i.hazard is t.hazard and _overlaps(t, i)
            and (raised := _raised(t, i, grace_ms)) is not None
        ]  # fmt: skip
        matched.update(h.incident.id for h in hits)
        outcomes.append(_outcome(t, hits, paged, acked))
    unmatched = [_unmatched(i, others, grace_ms) for i in merged.values() if i.id not in matched]
    return Score(
        summary=_summary(outcomes, unmatched), hazards=tuple(outcomes), unmatched=tuple(unmatched)
    )


def _times(pairs: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for key, t in pairs:
        out.setdefault(key, []).append(t)
    return out


def _raised(t: TruthRecord, i: ObservedIncident, grace_ms: int) -> tuple[int, Level] | None:
    """When ``i`` was raised for ``t`` (its first opening or reopening in ``t``'s window), and
    the highest level of its lives that began in the window (a level rising past an answer
    reopens an incident too: the same hazard, growing)."""
    lives = [
        (at, i.peaks[life] if life < len(i.peaks) else i.level)
        for life, at in enumerate((i.opened_at, *sorted(i.reopened_at)))
        if t.start_ms - LEAD_MS <= at <= t.end_ms + grace_ms
    ]
    if not lives:
        return None
    return lives[0][0], max(level for _, level in lives)


def _overlaps(t: TruthRecord, i: ObservedIncident) -> bool:
    if i.scope == "city":
        return not i.districts or t.district in i.districts
    if i.district != t.district:
        return False
    if i.scope == "district":
        return not i.streets or bool(set(i.streets) & set(t.all_streets))
    pairs = ((i.community, t.community), (i.building, t.building))
    return i.street in t.all_streets and all(a is None or b is None or a == b for a, b in pairs)


class _Hit(NamedTuple):
    """An incident matching a hazard: when it was raised for it, and its peak in that life."""

    incident: ObservedIncident
    at: int
    level: Level


def _outcome(
    t: TruthRecord, hits: list[_Hit], paged: dict[str, list[int]], acked: dict[str, list[int]]
) -> HazardOutcome:
    """Pages and answers count from when each hit was raised (a reopened incident's earlier ones
    were about something else)."""

    def since(times: Iterable[tuple[int | None, int]]) -> float | None:
        known = [x for x, raised in times if x is not None and x >= raised]
        return (min(known) - t.start_ms) / 1000 if known else None

    def each(h: _Hit, own: int | None, seen: dict[str, list[int]]) -> list[tuple[int | None, int]]:
        return [(x, h.at) for x in (own, *seen.get(h.incident.id, ()))]

    reached = max((h.level for h in hits), default=Level.NONE)
    agreement = None
    if hits:
        agreement = "exact" if reached is t.level else ("under" if reached < t.level else "over")
    places = ((h.incident.scope, h.incident.district, h.incident.street) for h in hits)
    groups = Counter((scope, d, s if scope == "street" else None) for scope, d, s in places)
    return HazardOutcome(
        truth=t,
        incidents=tuple(h.incident.id for h in hits),
        detect_s=since((h.at, h.at) for h in hits),
        page_s=since(x for h in hits for x in each(h, h.incident.first_page_at, paged)),
        ack_s=since(x for h in hits for x in each(h, h.incident.acknowledged_at, acked)),
        reached=reached,
        agreement=agreement,
        duplicates=sum(n - 1 for n in groups.values()),
    )


def _unmatched(i: ObservedIncident, others: list[TruthRecord], grace_ms: int) -> UnmatchedIncident:
    around = [r for r in others if _raised(r, i, grace_ms) is not None]
    mine = set(i.sensors) or set(i.gateways)
    if mine:
        causes = [r for r in around if mine & {*r.sensors, *r.gateways}]
        covered = mine <= {x for r in causes for x in (*r.sensors, *r.gateways)}
    else:
        causes = [r for r in around if r.hazard is i.hazard and _overlaps(r, i)]
        covered = bool(causes)
    cause: Cause = "false"
    if covered:
        faults = all(r.kind is TruthKind.FAULT for r in causes)
        cause = "fault_reported" if faults and i.hazard is Hazard.DEVICE else "false_alarm"
    place = "/".join(p for p in (i.district, i.street, i.community, i.building) if p)
    whats = tuple(sorted({r.what for r in causes})) if covered else ()
    return UnmatchedIncident(
        incident=i.id, hazard=i.hazard, level=i.level, place=place, cause=cause, explained_by=whats
    )


def _timing(values: Iterable[float | None]) -> Timing:
    known = [v for v in values if v is not None]
    if not known:
        return Timing(count=0, median_s=None, max_s=None)
    return Timing(count=len(known), median_s=statistics.median(known), max_s=max(known))


def _summary(outcomes: list[HazardOutcome], unmatched: list[UnmatchedIncident]) -> Summary:
    hit = [o for o in outcomes if o.incidents]
    causes = Counter(u.cause for u in unmatched)
    agree = Counter(o.agreement for o in hit)
    return Summary(
        hazards=len(outcomes),
        detected=len(hit),
        missed=len(outcomes) - len(hit),
        false_incidents=causes["false"],
        false_alarms=causes["false_alarm"],
        faults_reported=causes["fault_reported"],
        duplicates=sum(o.duplicates for o in outcomes),
        level_exact=agree["exact"],
        level_under=agree["under"],
        level_over=agree["over"],
        unanswered=sum(1 for o in hit if o.ack_s is None),
        detect=_timing(o.detect_s for o in outcomes),
        page=_timing(o.page_s for o in outcomes),
        ack=_timing(o.ack_s for o in outcomes),
    )

"""Area outages: many gateways of one community or street going offline together.

In a rainstorm power or the network fails for a whole community or street (断路断网断电). Forty
"gateway offline" alarms would drown the one fact that matters, so the correlator turns them into
one ``AREA_OUTAGE`` and holds back the gateways' own offline events (``PresenceTracker`` asks
``covers``) until the area is restored.

Rules, per area (streets first, then communities):

* The candidates are the area's gateways that are down, not yet reported on their own, not
  covered by an outage and not released from one. The area is *pending* once the largest group
  of candidates that went down within ``hold_s`` of each other reaches ``outage_fraction`` of
  the area's registered gateways and ``outage_min_gateways``: from the moment the group reached
  that size (the down time of the member that completed it). The outage starts only when the
  group, taken again, is still that large ``hold_s`` later, the same hold a single gateway's
  offline gets. Gateways that come back within it (a broker restart: every connection drops and
  is back within seconds) dissolve the group and raise nothing. Meanwhile ``covers`` holds back
  the members' own offline events. For a street, gateways already inside an active community
  outage of that street count too: a storm that spreads from one community to the street
  escalates (the community outage stays open and closes on its own).
* Candidates of an area with an active outage join it silently.
* An outage ends (``AREA_RESTORED``) when ``restore_fraction`` of its members are online again.
  Members still down are *released*: they get their own ``GATEWAY_OFFLINE`` (unless another
  outage still covers them) and cannot start a new outage until they have been back.

Levels (DOMAIN.md: the street is the first responder, the district takes over beyond a street):
a single gateway offline is BLUE (一般: one community loses part of its sensing, a maintenance
job); a community outage is YELLOW (较重: a whole community is blind, and power or network loss
there is itself a sign of flooding); a street outage is ORANGE (严重: the first responder has lost
sight of its whole area, probably while a storm hits it, and the district must be told). An
outage is never RED: red is for a sensed danger to life, and an outage is the loss of sensing.

The correlator decides at ``step`` times (the tracker's ticks), so with a check interval of
``c`` seconds a group may span up to ``hold_s + c`` in the worst case, and an outage is raised
between ``hold_s`` and ``hold_s + c`` after its group was complete. A member that went down
before the group was complete is held back longer than its own ``hold_s``, by at most
``hold_s + c`` more. The correlator knows nothing of time but the views' ``down_at``: the
tracker moves it later when the hub itself could not hear (``PresenceTracker.link_down``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hub.events import HubEvent, HubEventType, OfflineCause
from hub.presence.config import PresenceConfig
from streetwatch.levels import Level
from streetwatch.location import Area

__all__ = ["AreaKey", "GatewayView", "Outage", "OutageCorrelator", "largest_group"]

_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class AreaKey:
    """A street (``community`` None) or a community of it."""

    district: str
    street: str
    community: str | None = None

    @classmethod
    def street_of(cls, area: Area) -> AreaKey:
        return cls(area.district, area.street)

    @classmethod
    def community_of(cls, area: Area) -> AreaKey:
        return cls(area.district, area.street, area.community)

    @property
    def level(self) -> Level:
        return Level.ORANGE if self.community is None else Level.YELLOW

    @property
    def label(self) -> str:
        return "/".join(p for p in (self.district, self.street, self.community) if p)

    def contains(self, area: Area) -> bool:
        return (self.district, self.street) == (area.district, area.street) and (
            self.community is None or self.community == area.community
        )


@dataclass(frozen=True, slots=True)
class GatewayView:
    """What the correlator needs to know of one registered gateway."""

    gateway: str
    area: Area
    online: bool
    down_at: int | None = None  # when it counts as down from (its hold starts there)
    since: int | None = None  # its last sign of life before that
    cause: OfflineCause | None = None
    reported: bool = False  # its own GATEWAY_OFFLINE is out


@dataclass(slots=True)
class Outage:
    key: AreaKey
    declared_ms: int
    since: int
    members: set[str] = field(default_factory=set)

    @property
    def level(self) -> Level:
        return self.key.level


def largest_group(down: Iterable[GatewayView], hold_ms: int) -> list[GatewayView]:
    """The largest set of gateways that went down within ``hold_ms`` of each other (the most
    recent such set on a tie)."""
    ordered = sorted((v for v in down if v.down_at is not None), key=lambda v: v.down_at or 0)
    best: tuple[int, int] = (0, 0)
    lo = 0
    for hi, view in enumerate(ordered):
        while (view.down_at or 0) - (ordered[lo].down_at or 0) > hold_ms:
            lo += 1
        if hi + 1 - lo >= best[1] - best[0]:
            best = (lo, hi + 1)
    return ordered[best[0] : best[1]]


class OutageCorrelator:
    def __init__(self, config: PresenceConfig) -> None:
        self._config = config
        self._hold_ms = round(config.hold_s * 1000)
        self._active: dict[AreaKey, Outage] = {}
        self._pending: dict[AreaKey, set[str]] = {}  # as of the latest step
        self._released: set[str] = set()

    def covers(self, gateway: str) -> bool:
        """Whether an outage, active or pending, holds back this gateway's own events."""
        return self._in_outage(gateway) or any(gateway in p for p in self._pending.values())

    def active(self) -> list[Outage]:
        return [self._active[k] for k in sorted(self._active, key=lambda k: k.label)]

    def step(self, now_ms: int, gateways: Sequence[GatewayView]) -> list[HubEvent]:
        """Restore, join and detect outages given every registered gateway's state now."""
        views = {v.gateway: v for v in gateways}
        self._pending = {}
        self._released = {g for g in self._released if g in views and not views[g].online}
        events: list[HubEvent] = []
        restored: set[AreaKey] = set()
        for key, outage in list(self._active.items()):
            outage.members &= views.keys()
            back = sum(1 for m in outage.members if views[m].online)
            if back >= self._config.restore_fraction * len(outage.members) - _EPS:
                del self._active[key]
                restored.add(key)
                down = sorted(m for m in outage.members if not views[m].online)
                self._released.update(down)
                events.append(self._restored(now_ms, outage, back, down))
        candidates = [v for v in gateways if self._candidate(v)]
        for view in candidates:
            joined = self._active.get(AreaKey.street_of(view.area)) or self._active.get(
                AreaKey.community_of(view.area)
            )
            if joined is not None:
                joined.members.add(view.gateway)
        for make_key in (AreaKey.street_of, AreaKey.community_of):
            by_area: dict[AreaKey, list[GatewayView]] = {}
            for view in gateways:
                by_area.setdefault(make_key(view.area), []).append(view)
            for key, area_views in sorted(by_area.items(), key=lambda kv: kv[0].label):
                if key in restored or key in self._active or self._street_out(key):
                    continue
                event = self._detect(now_ms, key, area_views)
                if event is not None:
                    events.append(event)
        return events

    def _in_outage(self, gateway: str) -> bool:
        return any(gateway in o.members for o in self._active.values())

    def _candidate(self, view: GatewayView) -> bool:
        return (
            not view.online
            and not view.reported
            and view.gateway not in self._released
            and not self._in_outage(view.gateway)
        )

    def _street_out(self, key: AreaKey) -> bool:
        return key.community is not None and AreaKey(key.district, key.street) in self._active

    def _detect(self, now_ms: int, key: AreaKey, views: list[GatewayView]) -> HubEvent | None:
        group = largest_group((v for v in views if self._candidate(v)), self._hold_ms)
        if key.community is None:  # a street counts the still-down gateways of its communities
            group += [
                v
                for v in views
                if not v.online and v.gateway not in self._released and self._in_outage(v.gateway)
            ]
        count, total = len(group), len(views)
        needed = max(
            self._config.outage_min_gateways,
            math.ceil(self._config.outage_fraction * total - _EPS),
        )
        if count < needed:
            return None
        complete = sorted(v.down_at or 0 for v in group)[needed - 1]
        if now_ms < complete + self._hold_ms:  # not yet held: they may all be back in a moment
            self._pending[key] = {v.gateway for v in group}
            return None
        since = min(v.since if v.since is not None else now_ms for v in group)
        outage = Outage(key, now_ms, since, {v.gateway for v in group})
        self._active[key] = outage
        causes = {v.cause for v in group}
        return HubEvent(
            id=f"{HubEventType.AREA_OUTAGE}:{key.label}:{now_ms}",
            type=HubEventType.AREA_OUTAGE,
            t=now_ms,
            level=key.level,
            district=key.district,
            street=key.street,
            community=key.community,
            gateways=tuple(sorted(outage.members)),
            cause=causes.pop() if len(causes) == 1 else None,
            since=since,
            detail=f"{count} of {total} gateways of {key.label} offline together",
        )

    def _restored(self, now_ms: int, outage: Outage, back: int, down: list[str]) -> HubEvent:
        key = outage.key
        detail = f"{back} of {len(outage.members)} gateways of {key.label} back"
        if down:
            detail += f"; still offline: {', '.join(down)}"
        return HubEvent(
            id=f"{HubEventType.AREA_RESTORED}:{key.label}:{outage.declared_ms}",
            type=HubEventType.AREA_RESTORED,
            t=now_ms,
            level=key.level,
            district=key.district,
            street=key.street,
            community=key.community,
            gateways=tuple(sorted(outage.members)),
            since=outage.since,
            detail=detail,
        )

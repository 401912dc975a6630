"""Events and incidents for the incident tests, with plain defaults: a smoke alarm in building
b1 of community lianyang, street huamu, district pudong, at T0."""

from __future__ import annotations

import itertools

from hub.events import HubEvent, HubEventType
from hub.fanout import Located
from hub.incidents.model import Incident, IncidentScope, IncidentState, Signal
from streetwatch.anomalies import AnomalyType, Hazard
from streetwatch.kinds import KindName
from streetwatch.levels import Level
from streetwatch.location import Placement
from streetwatch.messages import AnomalyEvent, EventState

T0 = 1_700_000_000_000  # ManualClock's default start, in ms
S = 1000
_seq = itertools.count()

RAISED, CLEARED = EventState.RAISED, EventState.CLEARED


def edge(
    sensor: str = "s1",
    kind: KindName = KindName.SMOKE,
    level: Level = Level.ORANGE,
    state: EventState = RAISED,
    *,
    type: AnomalyType = AnomalyType.ALARM_FLAG,
    gateway: str = "gw-a",
    district: str = "pudong",
    street: str = "huamu",
    community: str = "lianyang",
    building: str | None = "b1",
    t: int = T0,
    metric: str | None = None,
    value: float | bool | None = None,
    threshold: float | None = None,
    test: bool = False,
    id: str | None = None,
) -> Located[AnomalyEvent]:
    event = AnomalyEvent(
        id=id or f"{gateway}.{sensor}.{type.value}.{state.value}.{level.value}.{t}",
        gateway=gateway,
        boot="0123abcd",
        seq=next(_seq),
        sensor=sensor,
        kind=kind,
        type=type,
        level=level,
        state=state,
        t=t,
        metric=metric,
        value=value,
        threshold=threshold,
        test=test,
    )
    placement = Placement(building=building) if building else None
    return Located(district, street, community, event, placement)


def water(
    sensor: str, level: Level, *, street: str = "huamu", t: int = T0, state: EventState = RAISED
) -> Located[AnomalyEvent]:
    """A water-level threshold event: depth above the level's threshold."""
    depth = {Level.BLUE: 16.0, Level.YELLOW: 26.0, Level.ORANGE: 31.0, Level.RED: 55.0}[level]
    return edge(
        sensor,
        KindName.WATER_LEVEL,
        level,
        state,
        type=AnomalyType.THRESHOLD,
        metric="depth",
        value=depth,
        threshold=depth - 1,
        street=street,
        building=None,
        t=t,
    )


def hub(
    type: HubEventType,
    *,
    level: Level = Level.BLUE,
    district: str = "pudong",
    street: str = "huamu",
    community: str | None = "lianyang",
    gateway: str | None = None,
    sensor: str | None = None,
    t: int = T0,
) -> HubEvent:
    return HubEvent(
        id=f"{type.value}:{community}:{gateway}:{sensor}:{t}",
        type=type,
        t=t,
        level=level,
        district=district,
        street=street,
        community=community,
        gateway=gateway,
        sensor=sensor,
    )


def signal(
    sensor: str,
    kind: KindName | None = KindName.SMOKE,
    level: Level = Level.ORANGE,
    *,
    type: str = "alarm_flag",
    active: bool = True,
    muted: bool = False,
    metric: str | None = None,
    value: float | None = None,
    threshold: float | None = None,
    gateway: str = "gw-a",
) -> Signal:
    return Signal(
        key=f"edge:{gateway}:{sensor}:{type}:{metric or ''}",
        event_id=f"e-{sensor}-{type}",
        t=T0,
        level=level,
        active=active,
        source="edge",
        type=type,
        gateway=gateway,
        sensor=sensor,
        kind=kind,
        metric=metric,
        value=value,
        threshold=threshold,
        muted=muted,
    )


def incident(
    hazard: Hazard,
    *signals: Signal,
    id: str | None = None,
    district: str = "pudong",
    street: str = "huamu",
    community: str | None = "lianyang",
    building: str | None = "b1",
    level: Level = Level.BLUE,
    state: IncidentState = IncidentState.OPEN,
    muted: bool = False,
) -> Incident:
    return Incident(
        id=id or f"I-{hazard.value}-{street}-{building}",
        key=f"{district}/{street}/{hazard.value}/{community or '*'}/{building or '*'}",
        hazard=hazard,
        scope=IncidentScope.STREET,
        district=district,
        street=street,
        community=community,
        building=building,
        level=level,
        state=state,
        muted=muted,
        opened_at=T0,
        updated_at=T0,
        signals=signals,
        streets=(street,),
    )


def flood(
    street: str,
    level: Level = Level.ORANGE,
    *,
    district: str = "pudong",
    state: IncidentState = IncidentState.OPEN,
    muted: bool = False,
) -> Incident:
    """A street flood incident with one water-level signal at ``level``."""
    return incident(
        Hazard.FLOOD,
        signal(f"w-{street}", KindName.WATER_LEVEL, level, type="threshold", muted=muted),
        id=f"I-flood-{district}-{street}",
        district=district,
        street=street,
        community=None,
        building=None,
        level=level,
        state=state,
        muted=muted,
    )

"""Each street's current incidents, published retained on its incident topic.

Dashboards and responder apps subscribe to ``.../{district}/{street}/incident`` and always get
the street's whole current picture (retained, replacing the last), never a stream of deltas to
reassemble. A district- or city-wide incident appears on every street it spans. Listeners in
``street_changes`` hear of every street whose picture changed (``hub.status``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from hub.incidents.model import Incident, IncidentState
from streetwatch.codec import encode
from streetwatch.messages import IncidentSummary, StreetIncidents
from streetwatch.topics import TopicTree

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes], Awaitable[None]]
StreetKey = tuple[str, str]


def summary(incident: Incident) -> IncidentSummary:
    state = incident.state.value if incident.state is not IncidentState.CLOSED else "resolved"
    return IncidentSummary(
        id=incident.id,
        hazard=incident.hazard,
        level=incident.level,
        state=state,
        scope=incident.scope.value,
        community=incident.community,
        building=incident.building,
        title=f"{incident.level.zh}·{incident.hazard.zh}",
        muted=incident.muted,
        opened_at=incident.opened_at,
        updated_at=incident.updated_at,
        acknowledged_at=incident.acknowledged_at,
        acknowledged_by=incident.acknowledged_by,
    )


def streets_of(incident: Incident) -> list[StreetKey]:
    streets = set(incident.streets)
    if incident.street is not None:
        streets.add(incident.street)
    return sorted((incident.district, s) for s in streets)


class IncidentBoard:
    """Keeps the current incidents per street and publishes a street's list when it changes."""

    def __init__(self, tree: TopicTree, publish: Publish) -> None:
        self.tree = tree
        self._publish = publish
        self._by_street: dict[StreetKey, dict[str, Incident]] = {}
        self.street_changes: list[Callable[[str, str], None]] = []  # (district, street)

    def load(self, incidents: list[Incident]) -> None:
        for incident in incidents:
            self._place(incident)

    def streets(self) -> list[StreetKey]:
        """Every street that has or had an incident since the hub started."""
        return sorted(self._by_street)

    def incidents(self, key: StreetKey) -> list[Incident]:
        """The street's incidents that are not closed (resolved ones included)."""
        return list(self._by_street.get(key, {}).values())

    async def changed(self, incident: Incident, now_ms: int) -> None:
        for key in sorted(self._place(incident)):
            for listener in self.street_changes:
                listener(*key)
            await self.publish_street(key, now_ms)

    async def publish_street(self, key: StreetKey, now_ms: int) -> None:
        district, street = key
        current = sorted(
            self._by_street.get(key, {}).values(), key=lambda i: (-i.level.rank, i.opened_at)
        )
        message = StreetIncidents(
            district=district, street=street, t=now_ms, incidents=tuple(map(summary, current))
        )
        await self._publish(self.tree.incident(district, street), encode(message))

    def _place(self, incident: Incident) -> set[StreetKey]:
        touched = set()
        for key, incidents in self._by_street.items():
            if incident.id in incidents:
                del incidents[incident.id]
                touched.add(key)
        if incident.state is not IncidentState.CLOSED:
            for key in streets_of(incident):
                self._by_street.setdefault(key, {})[incident.id] = incident
                touched.add(key)
        return touched

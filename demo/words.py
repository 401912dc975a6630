"""How the demo names things: places, people, incidents, spans of time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hub.incidents.model import Incident
from simulators.city import SimCity

TIERS = ("社区 community", "街道 street office", "区 district")  # the default paging policy's


def place_names(city: SimCity) -> dict[str, str]:
    """Every district, street and community id of ``city`` → ``"天湖街道 Tianhu"``."""
    names: dict[str, str] = {}
    for d in city.districts:
        names[d.id] = f"{d.zh} {d.en}"
        for s in d.streets:
            names[s.id] = f"{s.zh} {s.en}"
            names |= {c.id: f"{c.zh} {c.en}" for c in s.communities}
    return names


def span(ms: int) -> str:
    """``42 s``, ``4 min 17 s``."""
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def tier(n: int) -> str:
    return TIERS[n] if 0 <= n < len(TIERS) else f"tier {n}"


@dataclass(frozen=True, slots=True)
class Names:
    """Words for ids: places (``"天湖街道 Tianhu"``) and responders (``"天湖街道值班员"``)."""

    places: Mapping[str, str]
    people: Mapping[str, str]
    streets: Sequence[tuple[str, str]]  # (district, street) in the city's order

    def place(self, incident: Incident) -> str:
        where = incident.community or incident.street or incident.district
        name = self.places.get(where, where)
        return f"{name} {incident.building}" if incident.building else name

    def what(self, incident: Incident) -> str:
        """``火灾 fire at 林松社区 Linsong b2``."""
        return f"{incident.hazard.zh} {incident.hazard} at {self.place(incident)}"

    def person(self, person_id: str | None) -> str:
        if person_id is None:
            return "someone"
        return f"{self.people.get(person_id, person_id)} ({person_id})"

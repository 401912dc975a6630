"""Who is on which tier for an incident, at a given time.

A person is on a tier when their role is one of the tier's roles and their area overlaps the
incident's: the same district (or one of the districts it spans), and where both name a street
(or the incident lists the streets it spans) the same street, and where both name a community
the same community. So an incident in one community reaches that community's 网格员 and 社区;
one that spans a street (no community) reaches every community of it; one that spans streets
or districts reaches the offices of each of them.

Duty hours: people off duty are skipped, unless nobody on the tier is on duty; then the whole
tier is paged (a warning must reach someone).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from hub.incidents.model import Incident

if TYPE_CHECKING:  # hub.notify.config imports DutyHours from here
    from hub.notify.config import Responder, Role

__all__ = ["DutyHours", "Roster", "covers"]

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")  # China has no daylight saving time


@dataclass(frozen=True, slots=True)
class DutyHours:
    """``"08:00-20:00"`` in Asia/Shanghai time; ``"20:00-08:00"`` runs over midnight."""

    start: int  # minutes after local midnight
    end: int

    @classmethod
    def parse(cls, text: str) -> DutyHours:
        try:
            first, last = text.split("-")
            start, end = _minutes(first), _minutes(last)
        except ValueError:
            raise ValueError(
                f"duty hours {text!r} must look like '08:00-20:00' (Asia/Shanghai time)"
            ) from None
        if start == end:
            raise ValueError(f"duty hours {text!r} are empty; leave duty_hours out for 24 h")
        return cls(start, end)

    def contains(self, t: float) -> bool:
        local = datetime.fromtimestamp(t, SHANGHAI)
        minute = local.hour * 60 + local.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end


def _minutes(text: str) -> int:
    hours, minutes = (int(part) for part in text.strip().split(":"))
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ValueError(text)
    return hours * 60 + minutes


def covers(person: Responder, incident: Incident) -> bool:
    """Whether ``person``'s area overlaps ``incident``'s."""
    if person.district != incident.district and person.district not in incident.districts:
        return False
    if person.street is not None:
        streets = (incident.street,) if incident.street is not None else incident.streets
        if streets and person.street not in streets:
            return False
    return person.community is None or incident.community in (None, person.community)


class Roster:
    """The responders of a config, indexed by district."""

    def __init__(self, responders: Iterable[Responder]) -> None:
        self._by_district: dict[str, list[Responder]] = {}
        for person in responders:
            self._by_district.setdefault(person.district, []).append(person)

    def everyone(self, incident: Incident, roles: Sequence[Role]) -> list[Responder]:
        """Everyone with one of ``roles`` for ``incident``, on duty or not, in config order."""
        districts = dict.fromkeys((incident.district, *incident.districts))
        return [
            p
            for district in districts
            for p in self._by_district.get(district, ())
            if p.role in roles and covers(p, incident)
        ]

    def tier(self, incident: Incident, roles: Sequence[Role], at: float) -> list[Responder]:
        """Who to page on the tier of ``roles`` at time ``at`` (Unix seconds)."""
        people = self.everyone(incident, roles)
        on_duty = [p for p in people if p.on_duty(at)]
        return on_duty or people

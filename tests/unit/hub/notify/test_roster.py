"""Who is on which tier: by the incident's place and the tier's roles, honouring duty hours."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from hub.incidents.model import Incident, IncidentScope
from hub.notify.config import Responder, Role
from hub.notify.roster import SHANGHAI, DutyHours, Roster
from streetwatch.anomalies import Hazard
from streetwatch.levels import Level

COMMUNITY = [Role.GRID_WORKER, Role.COMMUNITY]
STREET = [Role.STREET]
DISTRICT = [Role.DISTRICT]


def at(hhmm: str) -> float:
    """Unix time of ``hhmm`` on 2024-07-01 in Shanghai."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2024, 7, 1, hours, minutes, tzinfo=SHANGHAI).timestamp()


def someone(
    ident: str, role: str, street: str | None, community: str | None, **more: Any
) -> Responder:
    return Responder.model_validate(
        {
            "id": ident,
            "name": ident,
            "role": role,
            "district": more.pop("district", "pudong"),
            "street": street,
            "community": community,
            "contact": ["sms"],
            **more,
        }
    )


PEOPLE = [
    someone("li", "grid_worker", "huamu", "lianyang"),
    someone("wang", "community", "huamu", "lianyang"),
    someone("sun", "grid_worker", "huamu", "dongming"),
    someone("zhao", "street", "huamu", None),
    someone("zhou", "street", "yangjing", None),
    someone("chen", "district", None, None),
    someone("wu", "district", "yangjing", None),
    someone("qian", "street", "lujiazui", None, district="huangpu"),
    someone("he", "district", None, None, district="huangpu"),
]


def incident(**over: Any) -> Incident:
    data: dict[str, Any] = {
        "id": "inc-1",
        "key": "flood:huamu:b5",
        "hazard": Hazard.FLOOD,
        "district": "pudong",
        "street": "huamu",
        "community": "lianyang",
        "level": Level.RED,
        "opened_at": 0,
        "updated_at": 0,
    }
    return Incident.model_validate(data | over)


def ids(people: list[Responder]) -> list[str]:
    return [p.id for p in people]


def test_a_community_incident_reaches_that_community_then_its_street_then_the_district() -> None:
    roster, now = Roster(PEOPLE), at("12:00")
    assert ids(roster.tier(incident(), COMMUNITY, now)) == ["li", "wang"]
    assert ids(roster.tier(incident(), STREET, now)) == ["zhao"]
    assert ids(roster.tier(incident(), DISTRICT, now)) == ["chen"]  # wu answers for yangjing only


def test_a_street_wide_incident_reaches_every_community_of_the_street() -> None:
    roster = Roster(PEOPLE)
    assert ids(roster.tier(incident(community=None), COMMUNITY, at("12:00"))) == [
        "li",
        "wang",
        "sun",
    ]


def test_an_incident_across_streets_reaches_the_office_of_each() -> None:
    spread = incident(
        scope=IncidentScope.DISTRICT, street=None, community=None, streets=("huamu", "yangjing")
    )
    roster = Roster(PEOPLE)
    assert ids(roster.tier(spread, STREET, at("12:00"))) == ["zhao", "zhou"]
    assert ids(roster.tier(spread, DISTRICT, at("12:00"))) == ["chen", "wu"]


def test_an_incident_across_districts_reaches_the_district_of_each() -> None:
    city = incident(
        scope=IncidentScope.CITY, street=None, community=None, districts=("pudong", "huangpu")
    )
    roster = Roster(PEOPLE)
    assert ids(roster.tier(city, DISTRICT, at("12:00"))) == ["chen", "wu", "he"]
    assert ids(roster.tier(city, STREET, at("12:00"))) == ["zhao", "zhou", "qian"]


def test_nobody_from_another_district_or_street() -> None:
    roster = Roster(PEOPLE)
    assert roster.tier(incident(district="minhang"), STREET, at("12:00")) == []
    assert ids(
        roster.tier(incident(street="yangjing", community="juquan"), STREET, at("12:00"))
    ) == ["zhou"]


def test_off_duty_people_are_skipped_while_someone_on_the_tier_is_on_duty() -> None:
    day = someone("day", "grid_worker", "huamu", "lianyang", duty_hours="08:00-20:00")
    night = someone("night", "grid_worker", "huamu", "lianyang", duty_hours="20:00-08:00")
    roster = Roster([day, night])
    assert ids(roster.tier(incident(), COMMUNITY, at("07:59"))) == ["night"]
    assert ids(roster.tier(incident(), COMMUNITY, at("08:00"))) == ["day"]
    assert ids(roster.tier(incident(), COMMUNITY, at("19:59"))) == ["day"]
    assert ids(roster.tier(incident(), COMMUNITY, at("23:30"))) == ["night"]


def test_when_nobody_on_the_tier_is_on_duty_everyone_on_it_is_paged() -> None:
    day = someone("day", "grid_worker", "huamu", "lianyang", duty_hours="08:00-20:00")
    office = someone("office", "community", "huamu", "lianyang", duty_hours="09:00-17:00")
    always = someone("always", "street", "huamu", None)
    roster = Roster([day, office, always])
    assert ids(roster.tier(incident(), COMMUNITY, at("03:00"))) == ["day", "office"]
    assert ids(roster.tier(incident(), COMMUNITY, at("18:00"))) == ["day"]
    assert ids(roster.everyone(incident(), COMMUNITY)) == ["day", "office"]


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("08:00-20:00", ["08:00", "12:00", "19:59"], ["07:59", "20:00", "00:00"]),
        ("22:00-06:30", ["22:00", "00:00", "06:29"], ["06:30", "12:00", "21:59"]),
        ("00:00-24:00", ["00:00", "23:59"], []),
    ],
)
def test_duty_hours_are_shanghai_time(text: str, inside: list[str], outside: list[str]) -> None:
    hours = DutyHours.parse(text)
    assert [hours.contains(at(t)) for t in inside] == [True] * len(inside)
    assert [hours.contains(at(t)) for t in outside] == [False] * len(outside)

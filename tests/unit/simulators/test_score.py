"""Scoring against hand-made truth: hits with exact times, misses, false alarms, duplicates,
district incidents over several streets, level agreement, the hub's JSON, the outputs."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

import simulators.score
from hub.incidents.model import Incident, IncidentScope, Signal
from simulators.score import (
    ObservedAck,
    ObservedIncident,
    ObservedPage,
    render_table,
    score,
)
from simulators.truth import TruthRecord
from streetwatch.anomalies import Hazard
from streetwatch.levels import Level

T0 = 1_750_000_000_000
S = 1000  # ms


def truth(what: str = "kitchen_fire", **changes: Any) -> TruthRecord:
    data: dict[str, Any] = {
        "kind": "hazard",
        "what": what,
        "hazard": "fire",
        "district": "pudong",
        "street": "huamu",
        "community": "lianyang",
        "building": "b3",
        "sensors": ["smoke-1", "smoke-2"],
        "start_ms": T0,
        "end_ms": T0 + 600 * S,
        "level": "red",
    }
    return TruthRecord.model_validate(data | changes)


def incident(id: str = "I-1", **changes: Any) -> ObservedIncident:
    data: dict[str, Any] = {
        "id": id,
        "hazard": "fire",
        "level": "red",
        "district": "pudong",
        "street": "huamu",
        "community": "lianyang",
        "building": "b3",
        "opened_at": T0 + 30 * S,
        "sensors": ["smoke-1"],
    }
    return ObservedIncident.model_validate(data | changes)


def test_a_hit_with_exact_times() -> None:
    pages = [
        ObservedPage(incident_id="I-1", t=T0 + 40 * S, delivered=False),  # failed: not a push
        ObservedPage(incident_id="I-1", t=T0 + 45 * S, recipient="wang", channel="sms"),
        ObservedPage(incident_id="I-1", t=T0 + 50 * S),
    ]
    acks = [ObservedAck(incident_id="I-1", t=T0 + 120 * S, by="wang")]
    result = score([truth()], [incident()], pages, acks)
    (o,) = result.hazards
    assert (o.incidents, o.detect_s, o.page_s, o.ack_s) == (("I-1",), 30.0, 45.0, 120.0)
    assert (o.reached, o.agreement, o.duplicates) == (Level.RED, "exact", 0)
    s = result.summary
    assert (s.hazards, s.detected, s.missed, s.false_incidents, s.unanswered) == (1, 1, 0, 0, 0)
    assert (s.detect.median_s, s.page.max_s, s.ack.count) == (30.0, 45.0, 1)


def test_times_also_come_from_the_incident_itself() -> None:
    seen = incident(first_page_at=T0 + 35 * S, acknowledged_at=T0 + 90 * S)
    (o,) = score([truth()], [seen], acks=[ObservedAck(incident_id="I-1", t=T0 + 95 * S)]).hazards
    assert (o.page_s, o.ack_s) == (35.0, 90.0)


def test_a_miss() -> None:
    elsewhere = incident(community="dongming", building="b1")  # same street, other community
    too_late = incident("I-2", opened_at=T0 + 901 * S)  # past end + 5 min grace
    too_early = incident("I-3", opened_at=T0 - 61 * S)
    other_hazard = incident("I-4", hazard="gas")
    result = score([truth()], [elsewhere, too_late, too_early, other_hazard])
    (o,) = result.hazards
    assert o.incidents == ()
    assert (o.detect_s, o.reached, o.agreement) == (None, Level.NONE, None)
    assert (result.summary.detected, result.summary.missed) == (0, 1)
    assert result.summary.false_incidents == 4
    assert result.summary.detect.count == 0
    assert result.summary.detect.median_s is None


def test_the_window_edges_match() -> None:
    early, late = incident("I-1", opened_at=T0 - 60 * S), incident("I-2", opened_at=T0 + 900 * S)
    (o,) = score([truth()], [early, late], grace_ms=300 * S).hazards
    assert o.incidents == ("I-1", "I-2")
    assert o.detect_s == -60.0


def test_a_reopened_incident_detects_the_hazard_that_reopened_it() -> None:
    """The hub reopens a resolved incident when the same hazard comes back to its place: the
    responders are paged anew, and the times count from the reopening, not the first life."""
    first, second = (
        truth("theft"),
        truth("cover_open", start_ms=T0 + 3600 * S, end_ms=T0 + 4800 * S),
    )
    reopened = T0 + 3620 * S
    seen = incident(
        opened_at=T0 + 30 * S,
        reopened_at=(reopened,),
        first_page_at=T0 + 35 * S,  # the theft's page
        acknowledged_at=reopened + 300 * S,  # the answer to the reopened incident
    )
    pages = [
        ObservedPage(incident_id="I-1", t=T0 + 40 * S),
        ObservedPage(incident_id="I-1", t=reopened + 5 * S),
    ]
    acks = [ObservedAck(incident_id="I-1", t=T0 + 100 * S)]  # the theft's answer
    result = score([first, second], [seen], pages, acks)
    theft, cover = result.hazards
    assert (theft.detect_s, theft.page_s, theft.ack_s) == (30.0, 35.0, 100.0)
    assert (cover.incidents, cover.detect_s, cover.page_s, cover.ack_s) == (
        ("I-1",),
        20.0,
        25.0,
        320.0,
    )
    assert (result.summary.detected, result.summary.duplicates) == (2, 0)


def test_the_level_reached_is_that_of_the_life_that_matched() -> None:
    first = truth("theft", level="orange")
    second = truth("cover_open", level="yellow", start_ms=T0 + 3600 * S, end_ms=T0 + 4800 * S)
    seen = incident(level="orange", reopened_at=(T0 + 3620 * S,), peaks=("orange", "yellow"))
    theft, cover = score([first, second], [seen]).hazards
    assert (theft.reached, theft.agreement) == (Level.ORANGE, "exact")
    assert (cover.reached, cover.agreement) == (Level.YELLOW, "exact")


def test_a_level_that_rose_past_an_answer_is_the_same_hazard_growing() -> None:
    """Answered at yellow, risen to red: the hub reopens it (whoever answered the yellow did
    not answer the red); the fire reached red."""
    seen = incident(level="red", reopened_at=(T0 + 90 * S,), peaks=("yellow", "red"))
    (fire,) = score([truth()], [seen]).hazards
    assert (fire.detect_s, fire.reached, fire.agreement) == (30.0, Level.RED, "exact")


def test_a_reopening_outside_the_window_detects_nothing() -> None:
    late = incident(opened_at=T0 - 3600 * S, reopened_at=(T0 - 1800 * S, T0 + 901 * S))
    (o,) = score([truth()], [late]).hazards
    assert o.incidents == ()


def test_snapshots_keep_every_reopening() -> None:
    a = incident(reopened_at=(T0 + 100 * S,))
    b = incident(reopened_at=(T0 + 50 * S, T0 + 200 * S))
    assert a.merged(b).reopened_at == (T0 + 50 * S, T0 + 100 * S, T0 + 200 * S)


def test_a_false_alarm_from_a_nuisance_is_reported_apart() -> None:
    cooking = truth("cooking_smoke", kind="nuisance", level="none", sensors=["smoke-9"])
    stuck = truth("sensor_stuck", kind="fault", hazard="device", level="none", sensors=["gas-4"])
    incidents = [
        incident("I-cook", sensors=["smoke-9"], level="orange"),
        incident("I-dev", hazard="device", level="blue", sensors=["gas-4"]),
        incident("I-??", sensors=["smoke-7"], level="orange"),
        incident("I-half", sensors=["smoke-9", "smoke-7"]),  # not only the nuisance
    ]
    result = score([cooking, stuck], incidents)
    causes = {u.incident: (u.cause, u.explained_by) for u in result.unmatched}
    assert causes == {
        "I-cook": ("false_alarm", ("cooking_smoke",)),
        "I-dev": ("fault_reported", ("sensor_stuck",)),
        "I-??": ("false", ()),
        "I-half": ("false", ()),
    }
    s = result.summary
    assert (s.hazards, s.false_incidents, s.false_alarms, s.faults_reported) == (0, 2, 1, 1)


def test_a_nuisance_explains_an_incident_without_sensors_by_its_place() -> None:
    test = truth("test_alarm", kind="nuisance", level="none", sensors=[])
    (u,) = score([test], [incident(sensors=[])]).unmatched
    assert (u.cause, u.explained_by) == ("false_alarm", ("test_alarm",))


def test_a_duplicate() -> None:
    flood = truth("street_flood", hazard="flood", community=None, building=None, level="orange")
    flooded = {"hazard": "flood", "level": "orange", "community": None, "building": None}
    incidents = [incident("I-1", **flooded), incident("I-2", **flooded, opened_at=T0 + 200 * S)]
    result = score([flood], incidents)
    (o,) = result.hazards
    assert (o.incidents, o.duplicates, o.detect_s) == (("I-1", "I-2"), 1, 30.0)
    assert result.summary.duplicates == 1
    assert result.unmatched == ()


def test_a_district_incident_covering_two_streets_hazard() -> None:
    flood = truth(
        "street_flood",
        hazard="flood",
        streets=["yangjing"],
        community=None,
        building=None,
        level="orange",
    )
    flooded = {"hazard": "flood", "level": "orange", "community": None, "building": None}
    district = {"scope": "district", "street": None, "streets": ["huamu", "yangjing"]}
    incidents = [
        incident("I-huamu", **flooded),
        incident("I-yangjing", **flooded, street="yangjing", opened_at=T0 + 60 * S),
        incident("I-pudong", **flooded | district, opened_at=T0 + 61 * S, sensors=[]),
        incident("I-minhang", **flooded | district, district="minhang"),  # another district
        incident("I-city", **flooded, scope="city", street=None, districts=["pudong", "xuhui"]),
    ]
    result = score([flood], incidents)
    (o,) = result.hazards
    assert o.incidents == ("I-huamu", "I-yangjing", "I-pudong", "I-city")
    assert o.duplicates == 0  # one per street, one district, one city
    assert [u.incident for u in result.unmatched] == ["I-minhang"]


def test_level_agreement() -> None:
    hazards = [
        truth("kitchen_fire", level="red"),
        truth("gas_leak", hazard="gas", level="yellow"),
        truth("main_burst", hazard="water_supply", community=None, building=None, level="orange"),
    ]
    incidents = [
        incident("I-fire", level="orange"),
        incident("I-fire", level="red", opened_at=T0 + 60 * S),  # a later snapshot
        incident("I-gas", hazard="gas", level="orange"),
        incident("I-main", hazard="water_supply", level="yellow", community=None, building=None),
    ]
    result = score(hazards, incidents)
    assert [(o.reached, o.agreement) for o in result.hazards] == [
        (Level.RED, "exact"),
        (Level.ORANGE, "over"),
        (Level.YELLOW, "under"),
    ]
    assert result.hazards[0].detect_s == 30.0  # the earliest opening of the snapshots
    s = result.summary
    assert (s.level_exact, s.level_over, s.level_under) == (1, 1, 1)


def test_from_hub_json() -> None:
    signal = Signal(
        key="edge:gw-1:smoke-1:alarm_flag:smoke",
        event_id="e-1",
        t=T0,
        level=Level.ORANGE,
        active=True,
        source="edge",
        type="alarm_flag",
        gateway="gw-1",
        sensor="smoke-1",
    )
    hub = Incident(
        id="I-7",
        key="pudong/huamu/fire/lianyang/b3",
        hazard=Hazard.FIRE,
        scope=IncidentScope.STREET,
        district="pudong",
        street="huamu",
        community="lianyang",
        building="b3",
        level=Level.RED,
        opened_at=T0 + 30 * S,
        updated_at=T0 + 40 * S,
        acknowledged_at=T0 + 100 * S,
        signals=(signal, signal.model_copy(update={"key": "hub:x", "sensor": None})),
    )
    seen = ObservedIncident.from_hub_json(json.loads(hub.model_dump_json()))
    assert seen == incident(
        "I-7", acknowledged_at=T0 + 100 * S, sensors=["smoke-1"], gateways=["gw-1"]
    )
    (o,) = score([truth()], [seen]).hazards
    assert (o.detect_s, o.ack_s) == (30.0, 100.0)


def test_table_and_json() -> None:
    b5 = {"building": "b5", "sensors": ["smoke-9"]}
    cooking = truth("cooking_smoke", kind="nuisance", level="none", **b5)
    missed = truth("gas_leak", hazard="gas", level="orange")
    incidents = [incident(), incident("I-cook", level="orange", **b5)]
    result = score([truth(), missed, cooking], incidents)
    table = render_table(result)
    assert table.row_count == 3
    console = Console(record=True, width=160)
    console.print(table)
    text = console.export_text()
    assert "missed" in text
    assert "false alarm: cooking_smoke" in text
    assert "1/2 detected" in text
    data = json.loads(result.to_json())
    assert data["summary"]["missed"] == 1
    assert data["summary"]["false_alarms"] == 1
    assert data["hazards"][0]["truth"]["what"] == "kitchen_fire"
    assert data["unmatched"][0]["explained_by"] == ["cooking_smoke"]


def test_public_names() -> None:
    for name in simulators.score.__all__:
        assert hasattr(simulators.score, name), name

"""Each default rule firing and not firing; rule and config validation."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from hub.incidents.config import IncidentsConfig, MaintenanceWindow, covering
from hub.incidents.model import Incident, IncidentState, Signal
from hub.incidents.rules import DEFAULT_RULES, RuleConfig, Verdict, evaluate
from streetwatch.anomalies import Hazard
from streetwatch.kinds import KindName
from streetwatch.levels import Level
from unit.hub.incidents.factory import T0, flood, incident, signal

K, L = KindName, Level
BURST = "suspected_main_burst"
FIRE, GAS, FLOOD, WATER, DEVICE = (
    Hazard.FIRE,
    Hazard.GAS,
    Hazard.FLOOD,
    Hazard.WATER_SUPPLY,
    Hazard.DEVICE,
)


def verdict(subject: Incident, *others: Incident) -> tuple[Level, str | None]:
    v = evaluate(DEFAULT_RULES, subject, others)
    return v.level, v.rule


def smoke(sensor: str, level: Level = L.ORANGE, **kw: Any) -> Signal:
    return signal(sensor, K.SMOKE, level, **kw)


def hydrant(sensor: str, value: float, threshold: float, level: Level = L.YELLOW) -> Signal:
    return signal(
        sensor, K.HYDRANT, level, type="threshold", metric="pressure", value=value,
        threshold=threshold,
    )  # fmt: skip


def depth(sensor: str, level: Level) -> Signal:
    return signal(sensor, K.WATER_LEVEL, level, type="threshold", metric="depth")


def outage(level: Level = L.ORANGE, active: bool = True) -> Signal:
    return Signal(
        key="hub:area_outage:pudong/huamu", event_id="o", t=T0, level=level, active=active,
        source="hub", type="area_outage",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        ([smoke("s1")], (L.ORANGE, None)),
        ([smoke("s1"), smoke("s2")], (L.RED, "smoke_in_building")),
        ([smoke("s1"), smoke("s2"), smoke("s3")], (L.RED, "smoke_in_building")),
        ([smoke("s1", L.YELLOW), smoke("s2", L.YELLOW)], (L.YELLOW, None)),  # no alarm yet
        ([smoke("s1"), smoke("s2", active=False)], (L.ORANGE, None)),  # one cleared
        ([smoke("s1"), smoke("s2", muted=True)], (L.ORANGE, None)),  # one in maintenance
        ([smoke("s1"), smoke("s1", type="threshold")], (L.ORANGE, None)),  # one sensor twice
        ([smoke("s1"), smoke("s1", gateway="gw-b")], (L.RED, "smoke_in_building")),
    ],
)
def test_two_smoke_detectors_in_a_building(signals: list[Signal], expected: object) -> None:
    assert verdict(incident(FIRE, *signals)) == expected


@pytest.mark.parametrize(
    ("gas", "expected"),
    [
        (incident(GAS, signal("g1", K.GAS, L.YELLOW)), (L.RED, "smoke_and_gas")),
        (incident(GAS, signal("g1", K.GAS, L.YELLOW), building="b2"), (L.ORANGE, None)),
        (incident(GAS, signal("g1", K.GAS, L.BLUE)), (L.ORANGE, None)),  # early warning only
        (incident(GAS, signal("g1", K.GAS, L.YELLOW, active=False)), (L.ORANGE, None)),
        (incident(GAS, signal("g1", K.GAS, muted=True), muted=True), (L.ORANGE, None)),
        (
            incident(GAS, signal("g1", K.GAS), state=IncidentState.RESOLVED),
            (L.ORANGE, None),
        ),
        (incident(GAS, signal("g1", K.GAS), street="lujiazui"), (L.ORANGE, None)),
    ],
)
def test_smoke_and_gas_in_one_building(gas: Incident, expected: object) -> None:
    fire = incident(FIRE, smoke("s1"))
    assert verdict(fire, gas) == expected


def test_smoke_and_gas_raises_both_incidents_and_needs_a_building() -> None:
    fire, gas = incident(FIRE, smoke("s1")), incident(GAS, signal("g1", K.GAS, L.YELLOW))
    assert verdict(gas, fire) == (L.RED, "smoke_and_gas")
    no_building = incident(FIRE, smoke("s1"), building=None)
    gas_nowhere = incident(GAS, signal("g1", K.GAS, L.YELLOW), building=None)
    assert verdict(no_building, gas_nowhere) == (L.ORANGE, None)


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        ([depth("w1", L.ORANGE)], (L.ORANGE, None)),
        ([depth("w1", L.ORANGE), depth("w2", L.ORANGE)], (L.ORANGE, "street_flood")),
        ([depth("w1", L.ORANGE), depth("w2", L.YELLOW)], (L.ORANGE, None)),
        ([depth("w1", L.YELLOW), depth("w2", L.YELLOW)], (L.YELLOW, None)),
        ([depth("w1", L.ORANGE), depth("w2", L.RED)], (L.RED, None)),  # red point: just max
    ],
)
def test_street_flood(signals: list[Signal], expected: object) -> None:
    assert verdict(incident(FLOOD, *signals, community=None, building=None)) == expected


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        ([hydrant("h1", 0.12, 0.14)], (L.YELLOW, None)),
        ([hydrant("h1", 0.12, 0.14), hydrant("h2", 0.13, 0.14)], (L.ORANGE, BURST)),
        ([hydrant("h1", 0.12, 0.14), hydrant("h2", 0.04, 0.05, L.RED)], (L.RED, None)),
        ([hydrant("h1", 1.2, 1.0), hydrant("h2", 1.1, 1.0)], (L.YELLOW, None)),  # water hammer
        ([signal("h1", K.HYDRANT, L.YELLOW, type="alarm_flag", metric="flow"),
          signal("h2", K.HYDRANT, L.YELLOW, type="alarm_flag", metric="flow")], (L.YELLOW, None)),
    ],
)  # fmt: skip
def test_suspected_main_burst(signals: list[Signal], expected: object) -> None:
    assert verdict(incident(WATER, *signals, community=None, building=None)) == expected


@pytest.mark.parametrize(
    ("others", "expected"),
    [
        ([flood("huamu")], (L.RED, "cut_off_during_flood")),
        ([], (L.ORANGE, None)),
        ([flood("lujiazui")], (L.ORANGE, None)),  # another street
        ([flood("huamu", state=IncidentState.RESOLVED)], (L.ORANGE, None)),
        ([flood("huamu", muted=True)], (L.ORANGE, None)),
    ],
)
def test_a_street_cut_off_during_a_flood(others: list[Incident], expected: object) -> None:
    cut_off = incident(DEVICE, outage(), community=None, building=None, id="I-dev")
    assert verdict(cut_off, *others) == expected


def test_only_an_outage_is_escalated_during_a_flood() -> None:
    offline = Signal(
        key="hub:gateway_offline:gw-a", event_id="x", t=T0, level=L.BLUE, active=True,
        source="hub", type="gateway_offline",
    )  # fmt: skip
    device = incident(DEVICE, offline, id="I-dev")
    assert verdict(device, flood("huamu")) == (L.BLUE, None)
    fire = incident(FIRE, smoke("s1"))
    assert verdict(fire, flood("huamu")) == (L.ORANGE, None)


def test_an_all_clear_incident_keeps_its_level() -> None:
    cleared = incident(FIRE, smoke("s1", active=False), level=L.RED)
    assert evaluate(DEFAULT_RULES, cleared, []) == Verdict(L.RED, None)


def test_a_muted_incident_still_has_a_level() -> None:
    muted = incident(FIRE, smoke("s1", muted=True), smoke("s2", muted=True), muted=True)
    assert verdict(muted) == (L.RED, "smoke_in_building")


def test_the_strongest_rule_names_the_level() -> None:
    rules = TypeAdapter(list[RuleConfig]).validate_python(
        [
            {"kind": "count", "name": "two", "kinds": ["smoke"], "at_least": 2, "level": "orange"},
            {"kind": "count", "name": "three", "kinds": ["smoke"], "at_least": 3, "level": "red"},
        ]
    )
    subject = incident(FIRE, smoke("a", L.YELLOW), smoke("b", L.YELLOW), smoke("c", L.YELLOW))
    assert evaluate(rules, subject, []) == Verdict(L.RED, "three")
    assert evaluate(rules[:1], subject, []) == Verdict(L.ORANGE, "two")


# -- config ----------------------------------------------------------------------------------


def test_defaults_name_every_rule_once() -> None:
    config = IncidentsConfig()
    assert [r.name for r in config.rules] == [
        "smoke_in_building",
        "smoke_and_gas",
        "street_flood",
        "suspected_main_burst",
        "cut_off_during_flood",
        "spread",
    ]
    assert config.spread is not None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rules": [{"kind": "count", "name": "x", "kinds": ["smoke"], "at_least": 2,
                     "level": "none"}]}, "warning level"),
        ({"rules": [{"kind": "count", "name": "x", "kinds": ["smoke"], "at_least": 1,
                     "level": "red"}]}, "greater than or equal to 2"),
        ({"rules": [{"kind": "escalate_during", "name": "x", "during": "flood",
                     "hazard": "device", "types": ["outage"], "level": "red"}]}, "unknown signal"),
        ({"rules": [{"kind": "combination", "name": "x", "kinds": ["smoke"], "level": "red"}]},
         "at least 2"),
        ({"rules": [{"kind": "sometimes", "name": "x"}]}, "does not match any of the expected"),
        ({"rules": [{"kind": "spread", "hazards": ["flood"]},
                    {"kind": "spread", "name": "again", "hazards": ["fire"]}]}, "one spread"),
        ({"rules": [{"kind": "combination", "name": "x", "kinds": ["smoke", "gas"],
                     "level": "red"}] * 2}, "twice: x"),
        ({"resolve_after_s": -1}, "greater than or equal to 0"),
        ({"id_prefix": "i-1"}, "should match pattern"),
        ({"maintenance": [{"scope": "sensor", "ids": ["s1"], "until": "2026-11-23T18:00:00",
                           "reason": "x"}]}, "time zone"),
        ({"maintenance": [{"scope": "sensor", "ids": ["s1"], "until": T0}]}, "reason"),
        ({"maintenance": [{"scope": "building", "ids": ["b1"], "until": T0, "reason": "x"}]},
         "'sensor', 'gateway', 'community' or 'street'"),
    ],
)  # fmt: skip
def test_bad_configs_are_refused_with_a_reason(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        IncidentsConfig.model_validate(data)


def test_maintenance_window_until_iso_or_ms_and_covers() -> None:
    iso = MaintenanceWindow(
        scope="community", ids=["lianyang"], until="2023-11-14T22:13:20.5+00:00", reason="r"
    )
    assert iso.until_ms == T0 + 500
    ms = MaintenanceWindow(scope="gateway", ids=["gw-a", "gw-b"], until=T0, reason="r")
    assert ms.until_ms == T0
    place = {"street": "huamu", "community": "lianyang", "gateway": "gw-b", "sensor": "s1"}
    assert iso.covers(T0, **place)
    assert not iso.covers(T0 + 500, **place)
    assert ms.covers(T0 - 1, **place)
    assert not ms.covers(T0, **place)
    assert not ms.covers(T0 - 1, **{**place, "gateway": "gw-c"})
    assert covering([ms, iso], T0, "huamu", "lianyang", "gw-c", None) is iso
    assert covering([ms, iso], T0 + 500, "huamu", "lianyang", "gw-c", None) is None

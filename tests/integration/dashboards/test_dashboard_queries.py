"""Every query of every dashboard, as Grafana would send it, returns rows from what the hub
stored for a scenario: panel targets, template variable queries and annotation queries.

Grafana's macros are expanded as Grafana does (dashboards.macros): ``$timeFilter`` is the run's
time range, ``$__interval`` a panel interval, ``${__to}`` the range end, and the variables are
taken twice: all on "All" (``.*``), then each on every value its own query returned (Grafana's
``(a|b)`` form, chained district → street → community → kind). Then a few panels are checked
against the scenario's ground truth: the right streets, sensors and gateways.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from dashboards.inventory import SentQuery, sent_queries, variable_names
from dashboards.macros import Expansion, expand
from dashboards.render import rendered
from simulators.truth import TruthRecord
from streetwatch.levels import Level

from .filled import FilledDatabase

INTERVAL = "30s"

BOARDS: dict[str, dict[str, Any]] = {
    board["uid"]: board for board in (json.loads(text) for text in rendered().values())
}
QUERIES = [query for board in BOARDS.values() for query in sent_queries(board)]


def run(filled: FilledDatabase, query: SentQuery, selected: dict[str, list[str]]) -> list[Any]:
    state = Expansion(filled.from_ms, filled.to_ms, INTERVAL, selected)
    text = expand(query.text, state, variable_names(BOARDS[query.board]))
    return filled.query(text)


@pytest.fixture(scope="module")
def existing_values(filled: FilledDatabase) -> dict[str, dict[str, list[str]]]:
    """Per dashboard, each variable's values as its query returns them, given the values of
    the variables before it (what a user sees in each drop-down)."""
    found: dict[str, dict[str, list[str]]] = {}
    for uid, board in BOARDS.items():
        selected: dict[str, list[str]] = {}
        for query in sent_queries(board):
            if query.source == "variable":
                answer = run(filled, query, selected)
                selected[query.name] = sorted(str(row["value"]) for row in answer)
        found[uid] = selected
    return found


@pytest.mark.parametrize("query", QUERIES, ids=[q.label for q in QUERIES])
def test_returns_rows_with_all_selected(filled: FilledDatabase, query: SentQuery) -> None:
    answer = run(filled, query, {})
    assert answer, f"{query.label} returned no rows with every variable on All:\n{query.text}"


@pytest.mark.parametrize("query", QUERIES, ids=[q.label for q in QUERIES])
def test_returns_rows_with_each_value_selected(
    filled: FilledDatabase,
    existing_values: dict[str, dict[str, list[str]]],
    query: SentQuery,
) -> None:
    selected = existing_values[query.board]
    assert all(selected.values()), f"a variable of {query.board} has no values: {selected}"
    answer = run(filled, query, selected)
    assert answer, f"{query.label} returned no rows with {selected}:\n{query.text}"


# The panels show what happened in the scenario, where it happened (its ground truth): not just
# any rows, the right ones.


def rows(filled: FilledDatabase, uid: str, title: str, ref_id: str = "A") -> list[Any]:
    """A panel's rows with every variable on All."""
    (query,) = [q for q in sent_queries(BOARDS[uid]) if q.name == title and q.ref_id == ref_id]
    return run(filled, query, {})


def truth(filled: FilledDatabase, what: str) -> TruthRecord:
    (record,) = [r for r in filled.tape.truth if r.what == what]
    return record


def test_the_map_places_every_street_at_its_level(filled: FilledDatabase) -> None:
    streets = rows(filled, "streetwatch-risk-map", "风险一张图 City risk map", "A")
    city = {s.id for d in filled.tape.city.districts for s in d.streets}
    assert {r["street"] for r in streets} == city
    for street in streets:
        assert 0 <= street["severity"] <= Level.RED.rank
        assert isinstance(street["lat"], float)
        assert isinstance(street["lon"], float)
    assert max(s["severity"] for s in streets) >= Level.ORANGE.rank  # both streets flooded


def test_the_map_places_every_sensor(filled: FilledDatabase) -> None:
    sensors = rows(filled, "streetwatch-risk-map", "风险一张图 City risk map", "C")
    city = {s.id for gateway in filled.tape.city.gateways() for s in gateway.sensors}
    assert {r["sensor"] for r in sensors} == city
    assert all(isinstance(r["lat"], float) for r in sensors)


def test_the_power_cut_street_is_an_area_outage(filled: FilledDatabase) -> None:
    cut = truth(filled, "power_cut")
    outages = rows(filled, "streetwatch-risk-map", "区域断网记录 Area outages")
    assert {(r["type"], r["street"]) for r in outages} >= {
        ("area_outage", cut.street),
        ("area_restored", cut.street),
    }


def test_the_faulty_sensors_are_named(filled: FilledDatabase) -> None:
    low = rows(filled, "streetwatch-device-health", "低电量设备 Low battery")
    assert {r["sensor"] for r in low} == set(truth(filled, "battery_low").sensors)
    overdue = rows(filled, "streetwatch-device-health", "超时记录 Overdue sensors")
    silent = set(truth(filled, "sensor_offline").sensors)
    assert {r["sensor"] for r in overdue if r["type"] == "sensor_overdue"} == silent


def test_the_cut_uplink_backs_up_its_gateways_outbox(filled: FilledDatabase) -> None:
    cut = truth(filled, "uplink_down")
    (gateway,) = cut.gateways
    backlog = rows(filled, "streetwatch-device-health", "网关积压 Gateway outbox backlog")
    depth = {r["time"]: r["max"] for r in backlog if r["gateway"] == gateway}
    during = [n for t, n in depth.items() if cut.start_ms <= t < cut.end_ms and n is not None]
    # health is numbered and queued like everything else: what it said during the cut arrives
    # after it, and says the outbox grew (one record more per minute at the least)
    assert len(during) >= 3
    assert max(during) >= 3
    assert during == sorted(during)


def test_unanswered_pages_escalate_and_answers_are_timed(filled: FilledDatabase) -> None:
    escalated = rows(filled, "streetwatch-response", "升级次数 Escalations")
    assert sum(r["sum"] for r in escalated) > 0  # grid workers never answer in the scenario
    answered = rows(filled, "streetwatch-response", "应答用时 Time to acknowledge")
    assert answered
    assert all(r["open_s"] > 0 for r in answered)
    resolved = rows(filled, "streetwatch-response", "处置用时 Time to resolve")
    assert truth(filled, "hydrant_theft").street in {r["street"] for r in resolved}

"""What issue #7 asks of the dashboards, checked on the JSON Grafana reads."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from dashboards.datasource import DATASOURCE_UID
from dashboards.inventory import sent_queries
from dashboards.render import rendered
from hub.storage.schema import MEASUREMENTS
from streetwatch.kinds import KINDS, KindName
from streetwatch.levels import Level

BOARDS: dict[str, dict[str, Any]] = {
    b["uid"]: b for b in (json.loads(text) for text in rendered().values())
}

REQUIRED: dict[str, tuple[list[str], list[str]]] = {  # uid: (variables, panel titles)
    "streetwatch-risk-map": (
        ["district", "street", "kind"],
        [
            "风险一张图 City risk map",
            "未处置事件 Open incidents by level",
            "断网断电街道 Streets cut off",
            "区域断网记录 Area outages",
        ],
    ),
    "streetwatch-street-detail": (
        ["district", "street", "community"],
        [
            "积水深度 Water depth",
            "可燃气体 Gas %LEL",
            "烟雾浓度 Smoke density",
            "消火栓压力 Hydrant pressure",
            "网关在线 Gateways online",
            "网关状态 Gateway state",
        ],
    ),
    "streetwatch-device-health": (
        ["district", "street", "community", "kind"],
        [
            "网关状态 Gateway state",
            "网关积压 Gateway outbox backlog",
            "低电量设备 Low battery",
            "超时未报 Sensors overdue",
            "LoRa 信号强度 LoRa signal (RSSI)",
            "Zigbee 链路质量 Zigbee link quality",
            "设备异常（按类型） Device anomalies by kind",
        ],
    ),
    "streetwatch-response": (
        ["district", "street"],
        [
            "应答用时 Time to acknowledge",
            "处置用时 Time to resolve",
            "未应答 Unanswered now",
            "待应答记录 Incidents waiting for an answer",
            "升级次数 Escalations",
            "发送渠道 Pages by channel",
        ],
    ),
}

QUERIES = [q for board in BOARDS.values() for q in sent_queries(board)]
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3,}")


def panel(uid: str, title: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [p for p in BOARDS[uid]["panels"] if p["title"] == title]
    assert len(found) == 1, f"{uid} has {len(found)} panels called {title!r}"
    return found[0]


def steps(p: dict[str, Any]) -> list[tuple[float | None, str]]:
    return [(s["value"], s["color"]) for s in p["fieldConfig"]["defaults"]["thresholds"]["steps"]]


def test_the_four_dashboards_are_built() -> None:
    assert set(BOARDS) == set(REQUIRED)


@pytest.mark.parametrize("uid", REQUIRED)
def test_each_dashboard_has_its_variables_and_panels(uid: str) -> None:
    names, titles = REQUIRED[uid]
    board = BOARDS[uid]
    assert [v["name"] for v in board["templating"]["list"]] == names
    present = {p["title"] for p in board["panels"]}
    assert set(titles) <= present, f"missing: {set(titles) - present}"


@pytest.mark.parametrize("uid", REQUIRED)
def test_titles_are_chinese_and_english_and_panels_are_described(uid: str) -> None:
    board = BOARDS[uid]
    for title in [board["title"], *(p["title"] for p in board["panels"])]:
        assert CJK.search(title), f"{title!r} has no Chinese"
        assert LATIN.search(title), f"{title!r} has no English"
    for p in board["panels"]:
        if p["type"] != "row":
            assert CJK.search(p.get("description", "")), f"{p['title']!r} has no description"


@pytest.mark.parametrize("uid", REQUIRED)
def test_panel_ids_are_stable_and_unique(uid: str) -> None:
    ids = [p["id"] for p in BOARDS[uid]["panels"]]
    assert ids == list(range(1, len(ids) + 1))


@pytest.mark.parametrize("query", QUERIES, ids=[q.label for q in QUERIES])
def test_every_query_uses_the_streetwatch_datasource(query: Any) -> None:
    assert query.datasource == {"type": "influxdb", "uid": DATASOURCE_UID}


def test_every_panel_target_is_a_raw_influxql_query() -> None:
    for board in BOARDS.values():
        for p in board["panels"]:
            if p["type"] != "row":
                assert p["datasource"] == {"type": "influxdb", "uid": DATASOURCE_UID}
            for target in p.get("targets", []):
                assert target["rawQuery"] is True
                assert target["datasource"]["uid"] == DATASOURCE_UID


@pytest.mark.parametrize("query", QUERIES, ids=[q.label for q in QUERIES])
def test_queries_are_plain_influxql_on_the_hubs_measurements(query: Any) -> None:
    text = query.text
    assert "from(bucket" not in text, "Flux"
    assert "|>" not in text, "Flux"
    assert not re.search(r"FROM\s*\(", text), "a subquery"
    assert not re.search(r"= '\$", text), "a variable must be matched with =~ /^$name$/"
    for name in re.findall(r'FROM "([^"]+)"', text):
        assert name in MEASUREMENTS, f"{name} is not a measurement the hub writes"
    for regex in re.findall(r"FROM /\^\$\{kind\}(_\w+)\$/", text):
        assert all(f"{kind.value}{regex}" in MEASUREMENTS for kind in KindName)
    if text.startswith("SELECT"):
        assert "$timeFilter" in text or "time <= ${__to}ms" in text, "no time bound"


def test_variables_are_multi_value_with_all_and_chained() -> None:
    for board in BOARDS.values():
        earlier: list[str] = []
        for variable in board["templating"]["list"]:
            assert variable["multi"] is True
            assert variable["includeAll"] is True
            assert variable["allValue"] == ".*"
            query = variable["query"]["query"]
            assert query.startswith("SHOW TAG VALUES FROM ")
            assert f'WITH KEY = "{variable["name"]}"' in query
            for parent in earlier:
                assert f'"{parent}" =~ /^${parent}$/' in query
            earlier.append(variable["name"])


def test_water_depth_thresholds_are_the_kind_tables() -> None:
    (rule,) = KINDS[KindName.WATER_LEVEL].threshold_rules("depth")
    expected = [(None, "green")] + [(s.value, s.level.value) for s in rule.steps]
    water = panel("streetwatch-street-detail", "积水深度 Water depth")
    assert steps(water) == expected
    assert water["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] == "line+area"


def test_hydrant_pressure_bands_follow_both_directions_of_the_kind_table() -> None:
    hydrant = panel("streetwatch-street-detail", "消火栓压力 Hydrant pressure")
    assert steps(hydrant) == [
        (None, "red"),
        (0.05, "orange"),
        (0.1, "yellow"),
        (0.14, "green"),
        (1.0, "yellow"),
    ]


def test_the_map_colours_streets_and_sensors_by_level() -> None:
    risk = panel("streetwatch-risk-map", "风险一张图 City risk map")
    overrides = risk["fieldConfig"]["overrides"]
    (severity,) = [o for o in overrides if o["matcher"]["options"] == "severity"]
    props = {p["id"]: p["value"] for p in severity["properties"]}
    assert [(s["value"], s["color"]) for s in props["thresholds"]["steps"]] == [
        (None, "green"),
        (1, "blue"),
        (2, "yellow"),
        (3, "orange"),
        (4, "red"),
    ]
    assert props["mappings"][0]["options"][str(Level.RED.rank)]["text"] == "红色 red"
    assert "mappings" not in risk["fieldConfig"]["defaults"]  # lat, lon, counts stay numbers
    layers = {layer["name"]: layer for layer in risk["options"]["layers"]}
    streets = layers["街道 Streets"]
    assert streets["config"]["style"]["color"]["field"] == "severity"
    assert streets["location"] == {"mode": "coords", "latitude": "lat", "longitude": "lon"}
    sources = {q["refId"]: q["query"] for q in risk["targets"]}
    assert 'FROM "street_status"' in sources[streets["filterData"]["options"]]
    anomalies = layers["传感器异常 Sensor anomalies"]
    assert 'FROM "anomaly_event"' in sources[anomalies["filterData"]["options"]]
    everyone = layers["所有传感器 All sensors"]
    assert 'FROM "sensor_info"' in sources[everyone["filterData"]["options"]]


def test_incidents_are_annotations_on_the_street_detail() -> None:
    (annotation,) = BOARDS["streetwatch-street-detail"]["annotations"]["list"]
    target = annotation["target"]
    assert 'FROM "incident"' in target["query"]
    assert target["rawQuery"] is True
    assert annotation["datasource"]["uid"] == DATASOURCE_UID

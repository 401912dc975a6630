"""The text a paged person reads: level, hazard, place, reading, local time, links."""

from __future__ import annotations

import pytest
from support.city import example_city
from support.pages import ACK_URL, MAP_URL, NAMES, OPENED_AT, fire, smoke_signal

from hub.incidents.model import IncidentScope
from hub.notify.base import Language
from hub.notify.render import place_names, render, strongest_signal
from streetwatch.anomalies import Hazard
from streetwatch.kinds import KindName
from streetwatch.levels import Level

LONG = {k: v * 10 for k, v in NAMES.items()}  # names far longer than any real one


def test_chinese_text_line_by_line() -> None:
    message = render(fire(), ack_url=ACK_URL, map_url=MAP_URL, names=NAMES)
    assert message.title == "【红色预警】火灾 · 联洋社区 12号楼"
    assert message.text.splitlines() == [
        "【红色预警】火灾",
        "等级：红色预警（I级，特别严重）",
        "地点：花木街道 联洋社区 12号楼 3层",
        "监测：烟雾浓度 0.35 dB/m，超过阈值 0.2 dB/m",
        "开始：2024-07-01 14:03（北京时间）",
        f"地图：{MAP_URL}",
        f"点击确认收到: {ACK_URL}",
    ]
    assert (message.ack_url, message.map_url) == (ACK_URL, MAP_URL)


def test_markdown_has_the_same_facts_and_both_links() -> None:
    message = render(fire(), ack_url=ACK_URL, map_url=MAP_URL, names=NAMES)
    paragraphs = message.markdown.split("\n\n")
    assert paragraphs[0] == "### 【红色预警】火灾"
    assert "**地点**：花木街道 联洋社区 12号楼 3层" in paragraphs
    assert f"[地图]({MAP_URL})" in paragraphs
    assert paragraphs[-1] == f"**[点击确认收到]({ACK_URL})**"


def test_english() -> None:
    message = render(fire(), language="en", ack_url=ACK_URL, map_url=None)
    assert message.title == "[RED WARNING] Fire · lianyang b12"
    assert message.text.splitlines() == [
        "[RED WARNING] Fire",
        "Level: red warning (level I)",
        "Place: huamu lianyang b12 floor 3",
        "Reading: smoke density 0.35 dB/m, above the threshold 0.2 dB/m",
        "Since: 2024-07-01 14:03 (UTC+8)",
        f"Tap to acknowledge: {ACK_URL}",
    ]
    assert message.map_url is None
    assert "Map" not in message.markdown


def test_the_time_is_beijing_time_across_midnight() -> None:
    late = OPENED_AT + 10 * 3600 * 1000  # 16:03 UTC is 00:03 the next day in Beijing
    message = render(fire(opened_at=late, updated_at=late), ack_url=ACK_URL)
    assert "开始：2024-07-02 00:03（北京时间）" in message.text


def test_sms_is_short_then_the_link() -> None:
    message = render(fire(), ack_url=ACK_URL, names=NAMES)
    short, link = message.sms.rsplit(" ", 1)
    assert link == ACK_URL
    assert (
        short
        == "【红色预警】火灾 联洋社区12号楼3层 烟雾浓度 0.35 dB/m，超过阈值 0.2 dB/m，点击确认收到:"
    )
    assert len(short) <= 70


@pytest.mark.parametrize("language", ["zh", "en"])
def test_sms_drops_the_reading_then_clips_the_place(language: Language) -> None:
    message = render(fire(), language=language, ack_url=ACK_URL, names=LONG)
    short, link = message.sms.rsplit(" ", 1)
    assert link == ACK_URL
    assert len(short) == {"zh": 70, "en": 120}[language]
    assert "…" in short
    assert "0.35" not in short
    assert short.startswith(("【红色预警】火灾 联洋社区联洋社区", "[RED WARNING] Fire 联洋社区"))


def test_rendered_messages_fit_the_robots_limits() -> None:
    message = render(fire(), ack_url=ACK_URL, map_url=MAP_URL, names=LONG)
    assert len(message.text.encode()) <= 2048  # WeCom text
    assert len(message.markdown.encode()) <= 4096  # WeCom markdown


def test_the_strongest_active_signal_is_the_reading() -> None:
    cleared = smoke_signal(key="old", level=Level.RED, active=False, value=9.0)
    yellow = smoke_signal(key="y", level=Level.YELLOW, value=0.12, threshold=0.1)
    orange = smoke_signal(key="o", level=Level.ORANGE, value=0.2, threshold=0.15, t=OPENED_AT + 5)
    incident = fire(cleared, yellow, orange, level=Level.ORANGE)
    assert strongest_signal(incident) == orange
    message = render(incident, ack_url=ACK_URL, names=NAMES)
    assert message.title.startswith("【橙色预警】火灾")
    assert "监测：烟雾浓度 0.2 dB/m，超过阈值 0.15 dB/m" in message.text


def test_a_flag_a_falling_threshold_and_a_basement() -> None:
    alarm = smoke_signal(metric="smoke", value=True, threshold=None, floor=-1)
    message = render(fire(alarm), ack_url=ACK_URL, names=NAMES)
    assert "监测：烟雾报警：设备报警" in message.text
    assert "地点：花木街道 联洋社区 12号楼 地下1层" in message.text
    low = smoke_signal(kind=KindName.HYDRANT, metric="pressure", value=0.08, threshold=0.1)
    hydrant = fire(low, hazard=Hazard.WATER_SUPPLY, level=Level.YELLOW)
    message = render(hydrant, ack_url=ACK_URL, names=NAMES)
    assert message.text.startswith("【黄色预警】消防供水")
    assert "监测：管网压力 0.08 MPa，低于阈值 0.1 MPa" in message.text
    english = render(hydrant, language="en", ack_url=ACK_URL)
    assert "Reading: pressure 0.08 MPa, below the threshold 0.1 MPa" in english.text


def test_a_hub_event_without_metric_shows_its_detail_clipped() -> None:
    offline = smoke_signal(metric=None, value=None, threshold=None, detail="网关离线" * 40)
    message = render(fire(offline, hazard=Hazard.DEVICE), ack_url=ACK_URL, names=NAMES)
    line = next(x for x in message.text.splitlines() if x.startswith("监测："))
    assert line == "监测：" + ("网关离线" * 20) + "…"
    quiet = smoke_signal(metric=None, value=None, threshold=None, detail="")
    assert "监测" not in render(fire(quiet), ack_url=ACK_URL).text


def test_a_district_incident_names_its_streets() -> None:
    incident = fire(
        scope=IncidentScope.DISTRICT,
        street=None,
        community=None,
        building=None,
        streets=("huamu", "yangjing"),
        signals=(),
    )
    names = place_names(example_city())
    message = render(incident, ack_url=ACK_URL, names=names)
    assert "地点：浦东新区 花木街道、洋泾街道" in message.text
    assert "监测" not in message.text
    assert message.title == "【红色预警】火灾 · 花木街道、洋泾街道"


def test_place_names_from_the_city_in_either_language() -> None:
    city = example_city()
    assert place_names(city)["lianyang"] == "联洋社区"
    assert place_names(city, "en")["huamu"] == "Huamu"
    unnamed = render(fire(), ack_url=ACK_URL)
    assert "地点：huamu lianyang b12 3层" in unnamed.text


def test_sms_keeps_an_unnamed_building_id_apart_from_its_floor() -> None:
    names = {k: v for k, v in NAMES.items() if not v.endswith("号楼")}
    message = render(fire(), ack_url=ACK_URL, names=names)
    building = fire().building
    assert building is not None
    assert f"{building} 3层" in message.sms

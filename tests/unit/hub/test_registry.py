"""The gateway registry: births accepted or refused with a reason, records kept across restarts."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from support.city import example_city

from hub.city import CityConfig
from hub.events import HubEventType
from hub.registry import GatewayRegistry, RefusalReason, Refused, Registered
from streetwatch.kinds import KindName
from streetwatch.location import Area
from streetwatch.messages import GatewayState, SensorInfo

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SMOKE = SensorInfo(id="s1", kind=KindName.SMOKE, report_interval_s=60, offline_after_s=300)


@pytest.fixture(scope="module")
def city() -> CityConfig:
    return example_city()


def birth(
    gateway: str = "gw-1",
    *,
    street: str = "huamu",
    community: str = "lianyang",
    district: str = "pudong",
    boot: str = "b0000001",
    **changes: object,
) -> GatewayState:
    state = GatewayState(
        gateway=gateway,
        area=Area(district=district, street=street, community=community),
        online=True,
        boot=boot,
        t=1,
        software="1.0.0",
        sensors=(SMOKE,),
        health_interval_s=60,
    )
    return state.model_copy(update=changes)


def registered(result: Registered | Refused) -> Registered:
    assert isinstance(result, Registered), result
    return result


def test_register_new_again_rebooted_and_changed(city: CityConfig) -> None:
    reg = GatewayRegistry(city, None).open()
    first = registered(reg.register("pudong", "huamu", "gw-1", birth(), 100))
    assert (first.new, first.rebooted, first.changed) == (True, False, frozenset())
    record = first.record
    assert (record.gateway, record.area.community, record.boot) == ("gw-1", "lianyang", "b0000001")
    assert dict(record.sensors) == {"s1": SMOKE}
    assert (record.first_seen_ms, record.birth_ms, record.health_interval_s) == (100, 100, 60)

    again = registered(reg.register("pudong", "huamu", "gw-1", birth(), 200))  # retained again
    assert again.unchanged
    assert again.record == record

    rebooted = registered(reg.register("pudong", "huamu", "gw-1", birth(boot="b0000002"), 300))
    assert (rebooted.new, rebooted.rebooted, rebooted.changed) == (False, True, frozenset())
    assert (rebooted.record.first_seen_ms, rebooted.record.birth_ms) == (100, 300)

    upgraded = birth(boot="b0000003", software="1.1.0", sensors=(), config_hash="ab12")
    changed = registered(reg.register("pudong", "huamu", "gw-1", upgraded, 400))
    assert changed.rebooted
    assert changed.changed == {"software", "sensors", "config_hash"}
    assert reg.get("gw-1") == changed.record


def test_register_takes_only_births(city: CityConfig) -> None:
    reg = GatewayRegistry(city, None).open()
    with pytest.raises(ValueError, match="births"):
        reg.register("pudong", "huamu", "gw-1", birth(online=False), 1)


@pytest.mark.parametrize(
    ("topic", "state", "reason", "words"),
    [
        (("pudong", "huamu", "gw-1"), birth("gw-2"), RefusalReason.GATEWAY_MISMATCH, "gw-2"),
        (
            ("pudong", "yangjing", "gw-1"),
            birth(),
            RefusalReason.PLACE_MISMATCH,
            "publishes under pudong/yangjing but its birth claims pudong/huamu/lianyang",
        ),
        (
            ("xuhui", "huamu", "gw-1"),
            birth(),
            RefusalReason.PLACE_MISMATCH,
            "publishes under xuhui/huamu",
        ),
        (
            ("xuhui", "tianping", "gw-1"),
            birth(district="xuhui", street="tianping"),
            RefusalReason.UNKNOWN_DISTRICT,
            "district 'xuhui'",
        ),
        (
            ("pudong", "lujiazui", "gw-1"),
            birth(street="lujiazui"),
            RefusalReason.UNKNOWN_STREET,
            "street 'lujiazui'",
        ),
        (
            ("pudong", "huamu", "gw-1"),
            birth(community="juquan"),  # a community of the other street
            RefusalReason.UNKNOWN_COMMUNITY,
            "community 'juquan', which is not in 花木街道 (Huamu)",
        ),
    ],
)
def test_refusals(
    city: CityConfig,
    topic: tuple[str, str, str],
    state: GatewayState,
    reason: RefusalReason,
    words: str,
) -> None:
    reg = GatewayRegistry(city, None).open()
    result = reg.register(*topic, state, 5)
    assert isinstance(result, Refused)
    assert result.reason is reason
    assert words in result.detail
    assert (result.district, result.street, result.gateway) == topic
    assert reg.get(topic[2]) is None
    event = result.event(9)
    assert (event.type, event.t, event.detail) == (HubEventType.GATEWAY_REFUSED, 9, result.detail)
    assert event.id == f"gateway_refused:{topic[2]}:{state.boot}:{reason}"


def test_moving_a_gateway_is_refused_until_an_operator_forgets_it(city: CityConfig) -> None:
    reg = GatewayRegistry(city, None).open()
    registered(reg.register("pudong", "huamu", "gw-1", birth(), 1))
    moved = birth(community="dongming", boot="b0000002")
    result = reg.register("pudong", "huamu", "gw-1", moved, 2)
    assert isinstance(result, Refused)
    assert result.reason is RefusalReason.MOVED
    assert "registered at pudong/huamu/lianyang" in result.detail
    assert "needs an operator" in result.detail
    record = reg.get("gw-1")
    assert record is not None
    assert record.area.community == "lianyang"
    assert reg.forget("gw-1")
    assert not reg.forget("gw-1")
    assert registered(reg.register("pudong", "huamu", "gw-1", moved, 3)).new


def test_queries(city: CityConfig) -> None:
    reg = GatewayRegistry(city, None).open()
    for gateway, street, community in [
        ("gw-3", "huamu", "dongming"),
        ("gw-1", "huamu", "lianyang"),
        ("gw-2", "huamu", "lianyang"),
        ("gw-4", "yangjing", "juquan"),
    ]:
        state = birth(gateway, street=street, community=community)
        registered(reg.register("pudong", street, gateway, state, 1))
    assert [r.gateway for r in reg.records()] == ["gw-1", "gw-2", "gw-3", "gw-4"]
    assert [r.gateway for r in reg.in_area("pudong", "huamu")] == ["gw-1", "gw-2", "gw-3"]
    assert [r.gateway for r in reg.in_area("pudong", "huamu", "lianyang")] == ["gw-1", "gw-2"]
    assert reg.in_area("pudong", "yangjing", "jinyang") == []
    assert len(reg) == 4


def test_records_survive_a_reopen(city: CityConfig, tmp_path: Path) -> None:
    path = tmp_path / "state" / "registry.json"
    reg = GatewayRegistry(city, path)
    assert not path.exists()  # the constructor does no I/O
    reg.open()
    record = registered(reg.register("pudong", "huamu", "gw-1", birth(), 100)).record
    registered(
        reg.register(
            "pudong", "yangjing", "gw-2", birth("gw-2", street="yangjing", community="jinyang"), 150
        )
    )
    assert sorted(p.name for p in path.parent.iterdir()) == ["registry.json"]  # no temp left

    reopened = GatewayRegistry(city, path).open()
    assert reopened.get("gw-1") == record
    assert [r.gateway for r in reopened.records()] == ["gw-1", "gw-2"]
    assert reopened.forget("gw-2")
    assert [r.gateway for r in GatewayRegistry(city, path).open().records()] == ["gw-1"]


def test_an_unchanged_birth_does_not_rewrite_the_file(city: CityConfig, tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    reg = GatewayRegistry(city, path).open()
    registered(reg.register("pudong", "huamu", "gw-1", birth(), 100))
    path.write_text("sentinel", encoding="utf-8")
    registered(reg.register("pudong", "huamu", "gw-1", birth(), 200))
    assert path.read_text(encoding="utf-8") == "sentinel"


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"version": 1, "gateways": [{"gateway": "gw-1"}]}', b"\xff\xfe", b""],
    ids=["syntax", "schema", "binary", "empty"],
)
def test_a_corrupt_file_is_kept_aside_and_the_registry_starts_empty(
    city: CityConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    path = tmp_path / "registry.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="hub.registry"):
        reg = GatewayRegistry(city, path).open()
    assert list(reg.records()) == []
    assert (tmp_path / "registry.json.corrupt").read_bytes() == content
    assert "unreadable" in caplog.text
    assert "registry.json.corrupt" in caplog.text
    registered(reg.register("pudong", "huamu", "gw-1", birth(), 1))
    assert [g["gateway"] for g in json.loads(path.read_text())["gateways"]] == ["gw-1"]


def test_records_of_places_no_longer_in_the_city_are_dropped(
    city: CityConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "registry.json"
    reg = GatewayRegistry(city, path).open()
    registered(reg.register("pudong", "huamu", "gw-1", birth(), 1))
    registered(
        reg.register(
            "pudong", "yangjing", "gw-2", birth("gw-2", street="yangjing", community="juquan"), 1
        )
    )
    smaller = CityConfig.model_validate(
        {
            "districts": [
                {
                    "id": "pudong",
                    "zh": "浦东新区",
                    "en": "Pudong",
                    "streets": [city.districts[0].streets[0].model_dump()],
                }
            ]
        }
    )
    with caplog.at_level(logging.WARNING, logger="hub.registry"):
        reopened = GatewayRegistry(smaller, path).open()
    assert [r.gateway for r in reopened.records()] == ["gw-1"]
    assert "gw-2" in caplog.text

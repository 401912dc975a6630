"""The city section: the example parses, duplicates are reported where they are, lookups work."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel
from support.city import example_city

from hub.city import CityConfig, Community, District, Street, city_problems, load_city
from hub.presence.config import PresenceConfig
from streetwatch.config import ConfigError
from streetwatch.location import Area

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture(scope="module")
def city() -> CityConfig:
    return example_city()


def test_example_city_parses(city: CityConfig) -> None:
    (pudong,) = city.districts
    assert (pudong.id, pudong.zh) == ("pudong", "浦东新区")
    assert [s.id for s in pudong.streets] == ["huamu", "yangjing"]
    assert all(2 <= len(s.communities) <= 3 for s in pudong.streets)
    assert all(c.zh and c.en for s in pudong.streets for c in s.communities)
    assert city.problems() == []


def test_lookups(city: CityConfig) -> None:
    assert city.has_street("pudong", "huamu")
    assert not city.has_street("pudong", "lujiazui")
    assert not city.has_street("minhang", "huamu")
    assert city.street_name("pudong", "huamu") == "花木街道 (Huamu)"
    assert city.street_name("pudong", "nowhere") == "pudong/nowhere"
    found = city.community(Area(district="pudong", street="huamu", community="lianyang"))
    assert found is not None
    assert found.label == "联洋社区 (Lianyang)"
    assert city.community(Area(district="pudong", street="yangjing", community="lianyang")) is None
    assert city.community(Area(district="xuhui", street="huamu", community="lianyang")) is None
    assert [c.id for c in city.communities("pudong", "yangjing")] == ["juquan", "jinyang"]
    assert list(city.communities("pudong", "nowhere")) == []
    area = Area(district="pudong", street="huamu", community="dongming")
    assert city.area_name(area) == "花木街道 (Huamu) 东明社区 (Dongming)"


def _community(cid: str) -> dict[str, object]:
    return {"id": cid, "zh": "社区", "en": cid}


def _street(sid: str, *communities: str) -> dict[str, object]:
    return {"id": sid, "zh": "街道", "en": sid, "communities": [_community(c) for c in communities]}


def test_duplicates_are_reported_with_their_paths() -> None:
    data = {
        "districts": [
            {
                "id": "pudong",
                "zh": "浦东新区",
                "en": "Pudong",
                "streets": [_street("huamu", "a", "b", "a"), _street("huamu", "c")],
            },
            {"id": "xuhui", "zh": "徐汇区", "en": "Xuhui", "streets": [_street("huamu", "a")]},
            {"id": "pudong", "zh": "浦东", "en": "Pudong again"},
        ]
    }
    city = CityConfig.model_validate(data)
    problems = city.problems(prefix=("city",))
    assert [path for path, _ in problems] == [
        ("city", "districts", 2, "id"),
        ("city", "districts", 0, "streets", 1, "id"),
        ("city", "districts", 0, "streets", 0, "communities", 2, "id"),
    ]
    assert (
        "district id 'pudong' is used twice in the city (first at districts[0])" in (problems[0][1])
    )
    assert "street id 'huamu' is used twice in district pudong" in problems[1][1]
    assert "community id 'a' is used twice in street pudong/huamu" in problems[2][1]
    # The same street id in another district, and the same community id in another street: fine.
    assert city_problems(data) == [(p[1:], m) for p, m in problems]


def test_duplicates_found_even_when_validation_fails(tmp_path: Path) -> None:
    path = tmp_path / "city.yaml"
    path.write_text(
        "districts:\n"
        "  - id: pudong\n"
        "    zh: 浦东新区\n"
        "    en: Pudong\n"
        "    streets:\n"
        "      - {id: huamu, zh: 花木街道, en: Huamu}\n"
        "      - {id: Huamu, zh: 花木街道, en: Huamu}\n"
        "      - {id: huamu, zh: 花木街道, en: Huamu, postcode: 200135}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_city(path)
    found = [(p.line, p.field) for p in caught.value.problems]
    assert (7, "districts[0].streets[1].id") in found  # capitals: not a slug
    assert (8, "districts[0].streets[2].postcode") in found  # unknown key
    assert (8, "districts[0].streets[2].id") in found  # duplicate
    assert f"{path}:8: districts[0].streets[2].id: street id 'huamu'" in str(caught.value)


@pytest.mark.parametrize(
    "model", [CityConfig, District, Street, Community, PresenceConfig], ids=lambda m: m.__name__
)
def test_every_field_is_described(model: type[BaseModel]) -> None:
    undescribed = [name for name, f in model.model_fields.items() if not f.description]
    assert undescribed == []

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from streetwatch.location import Area, Coordinates, Location, Placement, RiskPoint

AREA = Area(district="pudong", street="huamu", community="lianyang")


@pytest.mark.parametrize(
    ("placement", "label"),
    [
        (Placement(), "pudong/huamu/lianyang"),
        (Placement(building="b12"), "pudong/huamu/lianyang/b12"),
        (Placement(building="b12", floor=3), "pudong/huamu/lianyang/b12/F3"),
        (Placement(building="b12", floor=-2), "pudong/huamu/lianyang/b12/F-2"),
        (Placement(building="b12", floor=0), "pudong/huamu/lianyang/b12/F0"),
        (Placement(floor=1), "pudong/huamu/lianyang/F1"),
    ],
)
def test_label(placement: Placement, label: str) -> None:
    assert Location(area=AREA, placement=placement).label == label


def test_placement_defaults_to_nothing() -> None:
    location = Location(area=AREA)
    assert location.placement == Placement()
    assert location.label == "pudong/huamu/lianyang"


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"district": "Pudong", "street": "huamu", "community": "x"}, "district"),
        ({"district": "pudong", "street": "花木", "community": "x"}, "street"),
        ({"district": "pudong", "street": "huamu", "community": "a/b"}, "community"),
        ({"district": "pudong", "street": "huamu"}, "community"),
        ({"district": "pudong", "street": "huamu", "community": "x", "city": "sh"}, "city"),
    ],
)
def test_area_refuses(fields: dict[str, Any], bad_field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Area(**fields)
    assert [e["loc"][0] for e in info.value.errors()] == [bad_field]


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(91.0, 0.0), (-90.5, 0.0), (0.0, 180.5), (0.0, -181.0), (float("nan"), 0.0)],
)
def test_coordinates_out_of_range(lat: float, lon: float) -> None:
    with pytest.raises(ValidationError):
        Coordinates(lat=lat, lon=lon)


@pytest.mark.parametrize("floor", [-11, 201])
def test_floor_bounds(floor: int) -> None:
    with pytest.raises(ValidationError):
        Placement(floor=floor)


def test_models_are_frozen() -> None:
    with pytest.raises(ValidationError):
        AREA.district = "minhang"  # type: ignore[misc]


@pytest.mark.parametrize("risk", list(RiskPoint))
def test_every_risk_point_has_a_chinese_name(risk: RiskPoint) -> None:
    assert risk.zh
    assert not risk.zh.isascii()


def test_risk_point_from_config_text() -> None:
    placement = Placement.model_validate({"risk_point": "underpass"})
    assert placement.risk_point is RiskPoint.UNDERPASS

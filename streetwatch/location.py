"""Where things are: district → street → community → building.

Chinese urban administration nests 区 (district) → 街道 (street office) → 社区 (community);
a sensor sits in a building of a community, perhaps on a floor, at a kind of risk point.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from streetwatch.ids import Slug


class RiskPoint(StrEnum):
    """The kind of place a sensor watches; correlation rules and dashboards group by it."""

    UNDERPASS = "underpass"  # 下穿隧道 / 下立交
    UNDERGROUND_GARAGE = "underground_garage"  # 地下车库
    BASEMENT = "basement"  # 地下室
    LOW_LYING_ROAD = "low_lying_road"  # 低洼路段
    KITCHEN = "kitchen"  # 厨房 (residential or restaurant)
    PIPE_WELL = "pipe_well"  # 管道井 / 阀门井
    UTILITY_TUNNEL = "utility_tunnel"  # 综合管廊
    OLD_BUILDING = "old_building"  # 老旧小区
    HIGH_RISE = "high_rise"  # 高层建筑
    PUBLIC_VENUE = "public_venue"  # 人员密集场所
    STREET = "street"  # 市政道路 (hydrants, manholes)
    OTHER = "other"

    @property
    def zh(self) -> str:
        return _RISK_ZH[self]


_RISK_ZH: dict[RiskPoint, str] = {
    RiskPoint.UNDERPASS: "下穿通道",
    RiskPoint.UNDERGROUND_GARAGE: "地下车库",
    RiskPoint.BASEMENT: "地下室",
    RiskPoint.LOW_LYING_ROAD: "低洼路段",
    RiskPoint.KITCHEN: "厨房",
    RiskPoint.PIPE_WELL: "管道井",
    RiskPoint.UTILITY_TUNNEL: "综合管廊",
    RiskPoint.OLD_BUILDING: "老旧小区",
    RiskPoint.HIGH_RISE: "高层建筑",
    RiskPoint.PUBLIC_VENUE: "人员密集场所",
    RiskPoint.STREET: "市政道路",
    RiskPoint.OTHER: "其他",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Area(_Frozen):
    """A gateway's administrative place: district, street and community ids."""

    district: Slug = Field(description="District (区) id, e.g. 'pudong'.")
    street: Slug = Field(description="Street office (街道) id, e.g. 'huamu'.")
    community: Slug = Field(description="Community (社区) id, e.g. 'lianyang'.")


class Coordinates(_Frozen):
    """WGS-84 latitude and longitude in degrees."""

    lat: float = Field(ge=-90, le=90, description="Latitude in degrees (WGS-84).")
    lon: float = Field(ge=-180, le=180, description="Longitude in degrees (WGS-84).")


class Placement(_Frozen):
    """Where inside its community a sensor is installed."""

    building: Slug | None = Field(
        default=None, description="Building id within the community, e.g. 'b12'."
    )
    floor: int | None = Field(
        default=None, ge=-10, le=200, description="Floor; negative for basements."
    )
    coordinates: Coordinates | None = Field(default=None, description="Position of the device.")
    risk_point: RiskPoint | None = Field(default=None, description="What kind of place this is.")


class Location(_Frozen):
    """A full location: the area plus the placement inside it."""

    area: Area
    placement: Placement = Field(default_factory=Placement)

    @property
    def label(self) -> str:
        """``district/street/community[/building[/Ffloor]]`` for logs and messages."""
        parts = [self.area.district, self.area.street, self.area.community]
        if self.placement.building:
            parts.append(self.placement.building)
        if self.placement.floor is not None:
            parts.append(f"F{self.placement.floor}")
        return "/".join(parts)

"""The ``presence`` section of hub.yaml: when a gateway, a sensor or an area counts as gone."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from streetwatch.config import Section

__all__ = ["PresenceConfig"]


class PresenceConfig(Section):
    default_health_interval_s: float = Field(
        60,
        gt=0,
        le=86400,
        description="Health interval assumed for a gateway whose birth does not state one.",
    )
    silence_factor: float = Field(
        3,
        ge=1.5,
        le=100,
        description="A gateway is silent (offline) after this many health intervals without "
        "any message; below 1.5 a single late health message would flap it.",
    )
    sensor_grace_s: float = Field(
        30,
        ge=0,
        le=86400,
        description="Added to a sensor's offline_after_s before it counts as overdue "
        "(transmission and batching delays).",
    )
    outage_fraction: float = Field(
        0.6,
        gt=0,
        le=1,
        description="An area outage needs at least this fraction of a community's (or street's) "
        "registered gateways to go offline within hold_s.",
    )
    outage_min_gateways: int = Field(
        2,
        ge=2,
        le=10_000,
        description="...and at least this many gateways: one gateway alone is never an outage.",
    )
    hold_s: float = Field(
        30,
        ge=1,
        le=3600,
        description="A single gateway's offline is held back this long to see whether an area "
        "outage explains it; also the window in which gateways must fail together, how long "
        "they must then stay offline before an area outage is raised, and the grace after the "
        "hub's own broker connection returns before deaths and silence count again.",
    )
    restore_fraction: float = Field(
        0.5,
        gt=0,
        le=1,
        description="An area outage ends when at least this fraction of its gateways are back.",
    )
    check_interval_s: float = Field(
        5,
        gt=0,
        le=600,
        description="How often the hub checks for silence, overdue sensors and outages.",
    )

    @model_validator(mode="after")
    def _check_within_hold(self) -> Self:
        if self.check_interval_s > self.hold_s:
            raise ValueError(
                "check_interval_s must not exceed hold_s, or single offlines are reported "
                "before an area outage can be seen"
            )
        return self

"""A scenario: a city, a timeline of what happens in it, and how the responders behave.

Scenarios are YAML files (``simulators/scenarios/*.yaml`` ship with StreetWatch; any path works
too). Places are picked by position in the generated city, not by name, so that one scenario
runs on the city of any seed: ``street: 0`` is the first street of the city, ``community: 1``
the second community of that street, ``gateway: 0`` the first gateway of that community. Each
step of the timeline has ``at`` (time from the start: ``90s``, ``5m``, ``1h30m``, or seconds),
``do`` (what happens) and that action's own fields; ``for`` makes it end by itself.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from simulators.run.responders import ResponderBehaviour
from streetwatch.ids import Slug
from streetwatch.kinds import KindName
from streetwatch.levels import Level

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


def _seconds(value: Any) -> Any:
    """``"1h30m"``, ``"90s"``, ``"5m"`` or a number of seconds → seconds (float)."""
    if isinstance(value, bool):  # YAML's yes/no/on/off: pydantic would take True as 1 s
        raise ValueError(f"{value!r} is not a duration; write e.g. 90s, 5m, 1h30m or seconds")
    if not isinstance(value, str):
        return value
    text = value.strip().replace(" ", "")
    if _NUMBER.fullmatch(text):  # "90", quoted: seconds, as the message below offers
        return float(text)
    match = _DURATION.fullmatch(text)
    if not text or match is None or not any(match.groups()):
        raise ValueError(f"{value!r} is not a duration; write e.g. 90s, 5m, 1h30m or seconds")
    h, m, s = (float(g) if g else 0.0 for g in match.groups())
    return h * 3600 + m * 60 + s


PAST_THE_END = "past_the_end"
"""Error type of a step that runs past ``duration``; its ``ctx`` holds the step's ``index``."""

Duration = Annotated[float, BeforeValidator(_seconds), Field(ge=0, allow_inf_nan=False)]
"""Seconds, written as ``90s``, ``5m``, ``1h30m`` or a plain number."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CityShape(_Frozen):
    """How big the generated city is (see ``streetwatch sim city``)."""

    districts: int = Field(1, ge=1, le=10)
    streets: int = Field(1, ge=1, le=20, description="Per district.")
    communities: int = Field(2, ge=1, le=20, description="Per street.")
    gateways: int = Field(1, ge=1, le=10, description="Per community.")
    mix: Literal["residential", "street", "mixed"] = "residential"


class Place(_Frozen):
    """Where, by position: the n-th street of the city, community of it, gateway of that."""

    street: int = Field(0, ge=0, description="The street's position in the city (0: the first).")
    community: int = Field(0, ge=0, description="The community's position in the street.")
    gateway: int = Field(0, ge=0, description="The gateway's position in the community.")


class Step(_Frozen):
    at: Duration = Field(description="When, from the start of the scenario.")
    for_: Annotated[Duration, Field(gt=0)] | None = Field(
        None, alias="for", description="Ends by itself after this (more than 0 s)."
    )
    what: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9_]{0,47}$", description="Name in the ground truth."
    )
    level: Level | None = Field(None, description="The level the hazard deserves, if not computed.")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Rain(Step):
    """Rain over some streets: water rises where the drains are overwhelmed."""

    do: Literal["rain"]
    streets: list[int] | Literal["all"] = "all"
    mm_h: float = Field(ge=0, le=300, description="Rain intensity; 0 stops it.")


class Fire(Step):
    """A fire in the building of a community with the most smoke detectors."""

    do: Literal["fire"]
    where: Place = Place()
    stage: Literal["smouldering", "flaming", "out"]


class Cooking(Step):
    """Cooking smoke under one smoke detector (a nuisance)."""

    do: Literal["cooking"]
    where: Place = Place()
    sensor: int = Field(0, ge=0, description="Which smoke detector of the community.")


class GasLeakStep(Step):
    """Methane escaping in a pipe well or a kitchen; ``l_per_min: 0`` stops it."""

    do: Literal["gas_leak"]
    where: Place = Place()
    space: Literal["pipe_well", "kitchen"] = "pipe_well"
    l_per_min: float = Field(ge=0, le=1000)


class Spray(Step):
    """Someone spraying disinfectant or insecticide near a kitchen gas detector (a nuisance)."""

    do: Literal["spray"]
    where: Place = Place()
    sensor: int = Field(0, ge=0, description="Which gas detector of the community.")


class HydrantEvent(Step):
    """Something happening to one hydrant of a street."""

    do: Literal["hydrant"]
    where: Place = Place()
    hydrant: int = Field(0, ge=0, description="Which hydrant of the community.")
    event: Literal["theft", "collision", "cover_open"]


class MainBurst(Step):
    """The water main under a street bursts near one of its hydrants."""

    do: Literal["main_burst"]
    where: Place = Place()
    near_hydrant: int = Field(0, ge=0, description="Which hydrant of the community it is near.")


class SensorFault(Step):
    """A fault of one sensor (``fault``'s parameters in ``params``, e.g. ``{metric: depth}``)."""

    do: Literal["fault"]
    where: Place = Place()
    kind: KindName = Field(description="The sensor's kind, e.g. water_level.")
    sensor: int = Field(0, ge=0, description="Which sensor of that kind in the community.")
    fault: Literal[
        "drift", "stuck", "spikes", "low_battery", "tamper", "self_test", "clock_skew",
        "dropout", "duplicate", "reorder",
    ]  # fmt: skip
    params: dict[str, bool | int | float | str] = Field(default_factory=dict)


class UplinkCut(Step):
    """One gateway's uplink (4G, fibre) is cut; ``for`` restores it."""

    do: Literal["uplink_cut"]
    where: Place = Place()


class PowerCut(Step):
    """Some streets lose mains power: every gateway there goes silent; ``for`` restores it."""

    do: Literal["power_cut"]
    streets: list[int] = Field(min_length=1)


class BrokerRestart(Step):
    """The hub's broker (or the gateways' local broker) restarts, down for ``down`` seconds."""

    do: Literal["broker_restart"]
    broker: Literal["hub", "local"] = "hub"
    down: Duration = 5.0


class Commission(Step):
    """An installer powers up a new gateway (it is off until then) and tests it."""

    do: Literal["commission"]
    where: Place = Place()


class TestAlarm(Step):
    """An installer runs ``edge test-alarm`` on a gateway (recorded, never paged)."""

    do: Literal["test_alarm"]
    where: Place = Place()
    sensor: int = Field(0, ge=0, description="Which sensor of the gateway (its config order).")


Action = Annotated[
    Rain | Fire | Cooking | GasLeakStep | Spray | HydrantEvent | MainBurst | SensorFault
    | UplinkCut | PowerCut | BrokerRestart | Commission | TestAlarm,
    Field(discriminator="do"),
]  # fmt: skip


class Scenario(_Frozen):
    """One scenario file."""

    name: Slug
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    city: CityShape = CityShape()
    duration: Duration = Field(gt=0, le=7 * 86400)
    tick: Duration = Field(10.0, ge=1, le=600, description="Physics step; fastest report.")
    start: AwareDatetime = Field(
        datetime.fromisoformat("2026-07-15T14:00:00+08:00"),
        description="Simulated wall time at the start (ISO 8601 with its zone).",
    )
    speed: float = Field(60.0, gt=0, le=10_000, description="Default speed of `sim run`.")
    responders: ResponderBehaviour = ResponderBehaviour()
    timeline: list[Action] = Field(default_factory=list)

    @model_validator(mode="after")
    def _within(self) -> Self:
        for n, step in enumerate(self.timeline):
            down = step.down if isinstance(step, BrokerRestart) else 0.0
            end = step.at + (step.for_ or 0) + down
            if end > self.duration:
                where = {"index": n, "do": step.do, "end": f"{end:g}"}
                raise PydanticCustomError(
                    PAST_THE_END,
                    "timeline[{index}] ({do}) runs to {end} s, after the scenario ends at "
                    "{duration} s; shorten it or lengthen duration",
                    {**where, "duration": f"{self.duration:g}"},
                )
        return self

    @property
    def start_s(self) -> float:
        return self.start.timestamp()

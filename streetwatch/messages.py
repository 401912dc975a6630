"""Wire messages: what gateways and the hub say to each other over MQTT.

Every message is a frozen pydantic model that forbids unknown fields, refuses NaN and infinity,
refuses type coercion of numbers, booleans and text (``"12"`` is not a number), carries the
schema version ``v`` and names itself in ``msg``. The models are the protocol: the JSON Schema
in ``docs/protocol/`` is generated from them (``streetwatch schema``), and a test fails when the
two drift. Encoding and decoding with limits live in ``streetwatch.codec``.

Sequence numbers count per gateway boot and per channel (``data``, ``event``, ``state``,
``health``), from 0. The hub confirms stored ranges per (boot, channel) with ``Confirm``.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    model_validator,
)

from streetwatch.anomalies import AnomalyType, Hazard
from streetwatch.ids import Slug
from streetwatch.kinds import KINDS, KindName
from streetwatch.levels import Level
from streetwatch.location import Area, Placement

SCHEMA_VERSION = 1
MAX_BATCH_ITEMS = 5000
MAX_SENSORS_PER_GATEWAY = 2000

Millis = Annotated[StrictInt, Field(ge=0, lt=2**53, description="Unix time in milliseconds.")]
Seq = Annotated[StrictInt, Field(ge=0, lt=2**63, description="Sequence number within a boot.")]
Count = Annotated[StrictInt, Field(ge=0, lt=2**63)]
BootId = Annotated[
    str,
    StringConstraints(strict=True, pattern=r"^[0-9a-f]{8,32}$"),
    Field(description="Random hex id chosen by the gateway at every start."),
]
MetricName = Annotated[
    str,
    StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_]{0,31}$"),
    Field(description="A metric of the sensor kind, e.g. 'depth' or 'smoke'."),
]
Number = Annotated[StrictFloat, Field(allow_inf_nan=False)]
ShortText = Annotated[str, StringConstraints(strict=True, max_length=200)]
Version = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64)]
EventId = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Za-z0-9._:-]{1,128}$")]


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, use_enum_values=False
    )


class _Message(_Model):
    v: Literal[1] = Field(default=1, description="Schema version (SCHEMA_VERSION).")


class Quality(StrEnum):
    GOOD = "good"
    SUSPECT = "suspect"  # passed validation, but a detector doubts it (spike, stuck)
    FAULT = "fault"  # physically impossible or badly timed; never used for detection


class Reading(_Model):
    """One sample of one sensor: every metric it reported at that instant."""

    sensor: Slug
    kind: KindName
    t: Millis
    values: dict[MetricName, StrictBool | Number] = Field(min_length=1, max_length=32)
    quality: Quality = Quality.GOOD

    @model_validator(mode="after")
    def _metrics_of_kind(self) -> Self:
        if not self.values.keys() <= _METRIC_NAMES[self.kind]:  # checked for every reading
            _check_metrics(self.kind, self.values.keys())
        return self


_METRIC_NAMES = {kind: frozenset(KINDS[kind].by_name) for kind in KindName}


def _check_metrics(kind: KindName, names: AbstractSet[str]) -> None:
    known = KINDS[kind]
    if known.by_name.keys() >= names:  # the common case, without a loop in Python
        return
    unknown = sorted(n for n in names if not known.has_metric(n))
    if unknown:
        raise ValueError(
            f"{kind} has no metric {', '.join(unknown)}; it has {', '.join(known.metric_names)}"
        )


class MetricStats(_Model):
    min: Number
    max: Number
    mean: Number
    last: Number
    count: Annotated[StrictInt, Field(ge=1, lt=2**31)]

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.min <= self.mean <= self.max or not self.min <= self.last <= self.max:
            raise ValueError("statistics must satisfy min <= mean, last <= max")
        return self


class WindowSummary(_Model):
    """A sensor's readings over a window, summarised (normal-times reporting, 平时)."""

    sensor: Slug
    kind: KindName
    start: Millis
    end: Millis
    stats: dict[MetricName, MetricStats] = Field(default_factory=dict, max_length=32)
    flags: dict[MetricName, StrictBool] = Field(
        default_factory=dict, max_length=32, description="Each flag's last state in the window."
    )

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.end < self.start:
            raise ValueError("a window cannot end before it starts")
        if not self.stats and not self.flags:
            raise ValueError("a summary needs statistics or flags")
        _check_metrics(self.kind, {*self.stats, *self.flags})
        return self


class TelemetryBatch(_Message):
    """Telemetry of one gateway: raw readings and/or window summaries (channel ``data``)."""

    msg: Literal["telemetry"] = "telemetry"
    gateway: Slug
    boot: BootId
    seq: Seq
    sent: Millis
    readings: tuple[Reading, ...] = Field(default=(), max_length=MAX_BATCH_ITEMS)
    summaries: tuple[WindowSummary, ...] = Field(default=(), max_length=MAX_BATCH_ITEMS)
    replayed: StrictBool = Field(
        default=False, description="Sent again from the outbox after an outage or a resend."
    )

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.readings and not self.summaries:
            raise ValueError("a telemetry batch needs readings or summaries")
        return self


class EventState(StrEnum):
    RAISED = "raised"
    CLEARED = "cleared"


class AnomalyEvent(_Message):
    """A detector's transition: an anomaly raised or cleared (channel ``event``)."""

    msg: Literal["event"] = "event"
    id: EventId = Field(description="Unique per event, stable across resends.")
    gateway: Slug
    boot: BootId
    seq: Seq
    sensor: Slug
    kind: KindName
    type: AnomalyType
    level: Level
    state: EventState
    t: Millis = Field(description="When the transition happened at the sensor.")
    metric: MetricName | None = None
    value: Number | StrictBool | None = None
    threshold: Number | None = None
    test: StrictBool = Field(default=False, description="An installer's test: pages nobody.")
    replayed: StrictBool = False
    detail: ShortText = ""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.type is AnomalyType.TEST and not self.test:
            raise ValueError("an event of type 'test' must have test=true")
        return self


class SensorInfo(_Model):
    """A sensor as its gateway announces it in the birth message."""

    id: Slug
    kind: KindName
    placement: Placement = Field(default_factory=Placement)
    report_interval_s: Annotated[float, Field(gt=0, le=86400)]
    offline_after_s: Annotated[float, Field(gt=0, le=7 * 86400)]

    @model_validator(mode="after")
    def _offline_after_interval(self) -> Self:
        if self.offline_after_s <= self.report_interval_s:
            raise ValueError("offline_after_s must be longer than report_interval_s")
        return self


class GatewayState(_Message):
    """Birth (online, retained on connect) and death (offline, the MQTT will): channel ``state``."""

    msg: Literal["state"] = "state"
    gateway: Slug
    area: Area
    online: StrictBool
    boot: BootId
    t: Millis
    software: Version = "unknown"
    config_hash: Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9a-f]{0,64}$")] = ""
    sensors: tuple[SensorInfo, ...] = Field(default=(), max_length=MAX_SENSORS_PER_GATEWAY)
    health_interval_s: Annotated[float, Field(gt=0, le=86400)] | None = Field(
        default=None,
        description="How often the gateway sends health; the hub expects to hear from it as often.",
    )


class LostRange(_Model):
    """Sequence numbers the gateway had to drop (outbox quota): the hub stops waiting for them."""

    boot: BootId
    channel: Literal["data", "event", "state", "health"]
    first: Seq
    last: Seq

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.first > self.last:
            raise ValueError("a lost range is (first, last) with first <= last")
        return self


class GatewayHealth(_Message):
    """What a gateway reports about itself every health interval (channel ``health``)."""

    msg: Literal["health"] = "health"
    gateway: Slug
    boot: BootId
    seq: Seq
    t: Millis
    uptime_s: Annotated[float, Field(ge=0)]
    reconnects: Count = 0
    buffer_depth: dict[Slug, Count] = Field(default_factory=dict, description="Per lane.")
    dropped: dict[Slug, Count] = Field(default_factory=dict, description="Per reason.")
    rejected: dict[Slug, Count] = Field(default_factory=dict, description="Per reason.")
    last_seen: dict[Slug, Millis] = Field(
        default_factory=dict, max_length=MAX_SENSORS_PER_GATEWAY, description="Per sensor."
    )
    lost: tuple[LostRange, ...] = Field(default=(), max_length=1000)
    alert_mode: StrictBool = False


# ---------------------------------------------------------------------------------------------
# Commands, hub → gateway, on ``.../{gateway}/cmd/{command}``.

SeqRange = tuple[Seq, Seq]


class _Command(_Message):
    t: Millis


class AlertMode(_Command):
    """Street alert mode (战时): stream every sample of every sensor until switched off."""

    command: Literal["alert_mode"] = "alert_mode"
    on: StrictBool
    until: Millis | None = Field(default=None, description="Switch off by itself at this time.")
    reason: ShortText = ""


class Ping(_Command):
    command: Literal["ping"] = "ping"
    nonce: Annotated[str, StringConstraints(strict=True, max_length=64)] = ""


class Rebirth(_Command):
    """Publish the birth message again (the hub lost track of this gateway)."""

    command: Literal["rebirth"] = "rebirth"


class SilenceSiren(_Command):
    command: Literal["silence_siren"] = "silence_siren"
    until: Millis | None = None


class ReloadConfig(_Command):
    command: Literal["reload_config"] = "reload_config"


class Confirm(_Command):
    """The hub has durably stored these sequence ranges (inclusive); the outbox may drop them."""

    command: Literal["confirm"] = "confirm"
    boot: BootId
    channel: Literal["data", "event", "state", "health"]
    ranges: tuple[SeqRange, ...] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _ranges(self) -> Self:
        if any(lo > hi for lo, hi in self.ranges):
            raise ValueError("each range is (first, last) with first <= last")
        return self


class Resend(Confirm):
    """The hub saw a gap: send these sequence ranges again."""

    command: Literal["resend"] = "resend"  # type: ignore[assignment]


Command = Annotated[
    AlertMode | Ping | Rebirth | SilenceSiren | ReloadConfig | Confirm | Resend,
    Field(discriminator="command"),
]
COMMAND_MODELS: dict[str, type[_Command]] = {
    str(model.model_fields["command"].default): model
    for model in (AlertMode, Ping, Rebirth, SilenceSiren, ReloadConfig, Confirm, Resend)
}
"""Command name (the last topic segment) → its model."""


# ---------------------------------------------------------------------------------------------
# Hub → dashboards and apps, retained on ``.../{district}/{street}/incident``.


class IncidentSummary(_Model):
    """One incident as a dashboard or a responder app shows it."""

    id: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64)]
    hazard: Hazard
    level: Level
    state: Literal["open", "acknowledged", "resolved"]
    scope: Literal["street", "district", "city"] = "street"
    community: Slug | None = None
    building: Slug | None = None
    title: ShortText = ""
    muted: StrictBool = False
    opened_at: Millis
    updated_at: Millis
    acknowledged_at: Millis | None = None
    acknowledged_by: ShortText | None = None


class StreetIncidents(_Message):
    """A street's current incidents (open, acknowledged, recently resolved); replaces the last."""

    msg: Literal["incidents"] = "incidents"
    district: Slug
    street: Slug
    t: Millis
    incidents: tuple[IncidentSummary, ...] = Field(default=(), max_length=1000)

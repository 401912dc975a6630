"""gateway.yaml: everything an installer sets up on a community gateway.

Loaded with ``streetwatch.config.load_config`` (YAML, then ``STREETWATCH_EDGE_*`` environment
overrides, errors with file, line and field). Secrets, such as the uplink password, come only
from the environment: ``STREETWATCH_EDGE_UPLINK__PASSWORD``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import SettingsConfigDict

from streetwatch.broker import BrokerConfig
from streetwatch.config import ComponentSettings, FieldPath
from streetwatch.ids import Slug
from streetwatch.kinds import (
    Direction,
    Ecosystem,
    FieldMap,
    KindName,
    SensorKind,
    Threshold,
    ThresholdRule,
    get_kind,
    threshold_problems,
)
from streetwatch.levels import Level
from streetwatch.location import Area, Placement
from streetwatch.topics import DEFAULT_BASES
from streetwatch.units import accepted_units, is_convertible


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UplinkConfig(BrokerConfig):
    topic_prefix: str = Field("", description="Namespace before sw/v1 (empty in production).")
    reconnect_min_s: float = Field(1.0, gt=0, le=60, description="First reconnect delay.")
    reconnect_max_s: float = Field(60.0, gt=0, le=3600, description="Longest reconnect delay.")
    resend_after_s: float = Field(
        30.0, ge=1, le=3600, description="Send again what the hub has not confirmed by then."
    )
    replay_rate: float = Field(
        200.0, gt=0, le=100_000, description="Messages/s when replaying a backlog."
    )

    @model_validator(mode="after")
    def _backoff(self) -> UplinkConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        return self


class BufferConfig(_Section):
    path: Path = Field(
        Path("/var/lib/streetwatch/outbox.sqlite3"),
        description="SQLite outbox file; relative paths are relative to the config file.",
    )
    quota_mb: float = Field(
        512, gt=0, le=1_000_000, description="Disk quota for buffered telemetry (MiB)."
    )
    in_memory: bool = Field(
        False, description="Keep the outbox in memory (tests only: lost on restart)."
    )


class ReportingConfig(_Section):
    window_s: float = Field(60, ge=1, le=3600, description="Summary window in normal times.")
    deadband: float = Field(
        0.01,
        gt=0,
        le=1,
        description="Report at once when a metric moves by this fraction of its physical range "
        "(0.01: 5 cm of water, 1 %LEL of gas).",
    )
    batch_max: int = Field(500, ge=1, le=5000, description="Most items in one telemetry batch.")
    batch_wait_s: float = Field(
        0.2, ge=0, le=60, description="Longest wait to fill a batch of streamed samples."
    )


class LocalActionConfig(_Section):
    siren_topic: str | None = Field(
        None, description="Local-broker topic of a siren or broadcast box to trigger."
    )
    webhook_url: str | None = Field(
        None, pattern=r"^https?://", description="Local webhook (e.g. a PA system) to call."
    )
    min_level: Level = Field(Level.ORANGE, description="Lowest level that sounds locally.")
    only_when_uplink_down: bool = Field(
        True, description="Sound locally only while the hub cannot be reached."
    )


class HealthConfig(_Section):
    interval_s: float = Field(60, ge=5, le=3600, description="Health message period.")
    prometheus_port: int | None = Field(
        None, ge=1, le=65535, description="Serve Prometheus metrics on 127.0.0.1:PORT."
    )
    control_socket: Path | None = Field(
        None,
        description="Unix socket for `edge status` and `edge test-alarm`; "
        "next to the buffer file if unset.",
    )


class DetectionConfig(_Section):
    """Debounce and fault detection for one sensor (defaults suit most deployments)."""

    raise_samples: int = Field(2, ge=1, le=100, description="Samples beyond a threshold to raise.")
    raise_after_s: float = Field(
        0, ge=0, le=3600, description="...or seconds beyond it (0: samples only)."
    )
    clear_samples: int = Field(3, ge=1, le=100, description="Samples back within to clear.")
    clear_after_s: float = Field(
        60, ge=0, le=86400, description="...and seconds back within before clearing."
    )
    spike_jump: float | None = Field(
        None,
        gt=0,
        description="A jump of the primary metric this large (in its unit) that reverses at "
        "once is a spike; half the metric's physical range if unset.",
    )
    stuck: bool = Field(True, description="Detect stuck (flat-lined) values.")
    stuck_after_s: float | None = Field(
        None, gt=0, description="Identical values this long mean a stuck sensor (kind default)."
    )
    fault_samples: int = Field(
        3, ge=1, le=100, description="Faulty samples in a row before a device fault is raised."
    )
    rate_of_change: bool = Field(True, description="Raise early warnings on fast change.")


class FieldMapConfig(_Section):
    path: str = Field(min_length=1, max_length=200, description="Dotted path in the payload.")
    metric: str = Field(description="Metric of the sensor kind it feeds.")
    unit: str | None = Field(None, description="Unit in the payload; the metric's own if unset.")


class SourceConfig(_Section):
    ecosystem: Ecosystem
    device: str = Field(
        min_length=1,
        max_length=256,
        description="Zigbee2MQTT friendly name; ChirpStack 'application:dev_eui'; "
        "Tasmota topic; for json the exact topic.",
    )
    base_topic: str | None = Field(None, description="The ecosystem's base topic if not default.")
    fields: tuple[FieldMapConfig, ...] = Field(
        (), description="Extra or replacement field mappings."
    )

    @property
    def base(self) -> str:
        return self.base_topic or DEFAULT_BASES[self.ecosystem]

    @property
    def key(self) -> tuple[Ecosystem, str, str]:
        device = self.device.lower() if self.ecosystem is Ecosystem.CHIRPSTACK else self.device
        return (self.ecosystem, self.base, device)


class ThresholdOverride(_Section):
    metric: str
    direction: Direction | None = Field(
        None, description="Needed only when the metric has rising and falling thresholds."
    )
    levels: dict[Level, float] = Field(
        description="Level → threshold; unnamed levels keep defaults."
    )
    hysteresis: float | None = Field(None, ge=0)


class SensorConfig(_Section):
    id: Slug
    kind: KindName
    source: SourceConfig
    placement: Placement = Field(default_factory=Placement)
    report_interval_s: float | None = Field(None, gt=0, le=86400)
    offline_after_s: float | None = Field(None, gt=0, le=7 * 86400)
    thresholds: tuple[ThresholdOverride, ...] = ()
    detection: DetectionConfig = Field(default_factory=DetectionConfig)

    @property
    def sensor_kind(self) -> SensorKind:
        return get_kind(self.kind)

    @property
    def interval_s(self) -> float:
        return self.report_interval_s or self.sensor_kind.report_interval_s

    @property
    def offline_s(self) -> float:
        return self.offline_after_s or max(self.sensor_kind.offline_after_s, 3 * self.interval_s)

    def field_maps(self) -> tuple[FieldMap, ...]:
        """The kind's default mapping for the ecosystem, with configured mappings first."""
        configured = tuple(FieldMap(f.path, f.metric, f.unit) for f in self.source.fields)
        return configured + self.sensor_kind.ecosystems.get(self.source.ecosystem, ())

    def threshold_rules(self) -> tuple[ThresholdRule, ...]:
        """The kind's threshold rules with this sensor's overrides applied."""
        rules = []
        for rule in self.sensor_kind.thresholds:
            override = self._override_for(rule)
            rules.append(rule if override is None else _apply(rule, override))
        return tuple(rules)

    def _override_for(self, rule: ThresholdRule) -> ThresholdOverride | None:
        for o in self.thresholds:
            if o.metric == rule.metric and o.direction in (None, rule.direction):
                return o
        return None


def _apply(rule: ThresholdRule, override: ThresholdOverride) -> ThresholdRule:
    values = {s.level: (s.value, s.source) for s in rule.steps}
    for level, value in override.levels.items():
        values[level] = (value, "gateway.yaml override")
    steps = tuple(Threshold(lv, v, src) for lv, (v, src) in sorted(values.items()))
    hysteresis = rule.hysteresis if override.hysteresis is None else override.hysteresis
    return ThresholdRule(rule.metric, rule.direction, steps, hysteresis, rule.zh)


class GatewayIdentity(_Section):
    id: Slug = Field(description="This gateway's id, unique in the city.")
    area: Area


class GatewayConfig(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="STREETWATCH_EDGE_")

    gateway: GatewayIdentity
    local_broker: BrokerConfig = Field(default_factory=BrokerConfig)
    uplink: UplinkConfig
    buffer: BufferConfig = Field(default_factory=BufferConfig)
    reporting: ReportingConfig = Field(default_factory=ReportingConfig)
    local_action: LocalActionConfig = Field(default_factory=LocalActionConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    sensors: Annotated[tuple[SensorConfig, ...], Field(max_length=2000)] = ()
    version: Literal[1] = Field(1, description="gateway.yaml format version.")

    def sensor(self, sensor_id: str) -> SensorConfig:
        for s in self.sensors:
            if s.id == sensor_id:
                return s
        raise KeyError(f"no sensor {sensor_id!r} in this gateway's config")

    def config_hash(self) -> str:
        """A short digest of the effective config, announced in the birth message."""
        text = self.model_dump_json(exclude={"uplink": {"password"}, "local_broker": {"password"}})
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def semantic_problems(self) -> list[tuple[FieldPath, str]]:
        return sensors_problems(list(enumerate(self.sensors)))

    @classmethod
    def partial_problems(cls, data: dict[str, Any]) -> list[tuple[FieldPath, str]]:
        items = data.get("sensors")
        if not isinstance(items, list):
            return []
        valid: list[tuple[int, SensorConfig]] = []
        for i, item in enumerate(items):
            try:
                valid.append((i, SensorConfig.model_validate(item)))
            except ValidationError:
                continue  # already reported by the full validation
        return sensors_problems(valid)


def sensors_problems(sensors: list[tuple[int, SensorConfig]]) -> list[tuple[FieldPath, str]]:
    """Duplicate ids, two sensors on one device, and each sensor's own inconsistencies."""
    problems: list[tuple[FieldPath, str]] = []
    ids: dict[str, int] = {}
    sources: dict[tuple[Ecosystem, str, str], int] = {}
    for i, sensor in sensors:
        here: FieldPath = ("sensors", i)
        if sensor.id in ids:
            problems.append(
                (
                    (*here, "id"),
                    f"sensor id {sensor.id!r} is already used by sensors[{ids[sensor.id]}]",
                )
            )
        ids.setdefault(sensor.id, i)
        if sensor.source.key in sources:
            problems.append(
                (
                    (*here, "source", "device"),
                    f"sensors[{sources[sensor.source.key]}] already reads "
                    f"{sensor.source.ecosystem} device {sensor.source.device!r}; "
                    "one device feeds one sensor",
                )
            )
        sources.setdefault(sensor.source.key, i)
        problems.extend(_sensor_problems(sensor, here))
    return problems


def _sensor_problems(sensor: SensorConfig, here: FieldPath) -> list[tuple[FieldPath, str]]:
    kind = sensor.sensor_kind
    problems: list[tuple[FieldPath, str]] = []
    for j, fm in enumerate(sensor.source.fields):
        loc: FieldPath = (*here, "source", "fields", j)
        if not kind.has_metric(fm.metric):
            problems.append(
                (
                    (*loc, "metric"),
                    f"{kind.name} has no metric {fm.metric!r}; it has "
                    + ", ".join(kind.metric_names),
                )
            )
        elif fm.unit and not is_convertible(fm.unit, kind.metric(fm.metric).unit):
            accepted = ", ".join(accepted_units(kind.metric(fm.metric).unit))
            problems.append(
                ((*loc, "unit"), f"unit {fm.unit!r} not accepted; use one of {accepted}")
            )
    for j, override in enumerate(sensor.thresholds):
        loc = (*here, "thresholds", j)
        rules = [r for r in kind.thresholds if r.metric == override.metric]
        if not rules:
            names = sorted({r.metric for r in kind.thresholds})
            problems.append(
                (
                    (*loc, "metric"),
                    f"{kind.name} has no thresholds on {override.metric!r}; "
                    f"thresholds exist on: {', '.join(names) or 'nothing'}",
                )
            )
            continue
        if override.direction is None and len(rules) > 1:
            problems.append(
                (
                    (*loc, "direction"),
                    f"{override.metric} has rising and falling thresholds; "
                    "say which with direction: rising or falling",
                )
            )
            continue
        if Level.NONE in override.levels:
            problems.append(((*loc, "levels"), "'none' is not a warning level"))
            continue
        rule = next((r for r in rules if override.direction in (None, r.direction)), None)
        if rule is None:
            have = ", ".join(str(r.direction) for r in rules)
            problems.append(
                (
                    (*loc, "direction"),
                    f"{override.metric} has no {override.direction} thresholds; it has: {have}",
                )
            )
            continue
        merged = _apply(rule, override)
        for message in threshold_problems(kind.metric(rule.metric), rule.direction, merged.steps):
            problems.append(((*loc, "levels"), message))
    if sensor.offline_after_s is not None and sensor.offline_after_s <= sensor.interval_s:
        problems.append(
            (
                (*here, "offline_after_s"),
                f"must be longer than the report interval ({sensor.interval_s:g} s)",
            )
        )
    return problems

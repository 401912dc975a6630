"""The sensor-kind table: one record per kind of sensor, read by everything.

Edge decoders read ``ecosystems`` to map device fields to metrics, edge detectors read the
thresholds, rates and flags, the hub reads hazards and report intervals, simulators read the
physical ranges, dashboards read units and thresholds. A kind is data, built from small helpers
(``battery()``, ``tamper()``...) in the way zigbee-herdsman-converters describes devices; adding a
kind is adding a record to ``KINDS``.

Every default threshold names its source. Figures without a primary source say so; they are
defaults to override per sensor, not truths (see ../shared/DOMAIN.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from streetwatch.anomalies import AnomalyType, Hazard
from streetwatch.levels import Level
from streetwatch.units import Unit


class KindName(StrEnum):
    """The names of the kinds in ``KINDS``; the wire format accepts exactly these."""

    SMOKE = "smoke"
    WATER_LEVEL = "water_level"
    HYDRANT = "hydrant"
    GAS = "gas"
    MANHOLE_COVER = "manhole_cover"
    POWER = "power"


class Ecosystem(StrEnum):
    """How a device reaches the gateway's local broker."""

    ZIGBEE2MQTT = "zigbee2mqtt"
    CHIRPSTACK = "chirpstack"  # ChirpStack v4 LoRaWAN application events
    TASMOTA = "tasmota"
    JSON = "json"  # any JSON publisher, with a field mapping in the gateway config


class Direction(StrEnum):
    RISING = "rising"  # the level rises as the value rises (water depth, gas)
    FALLING = "falling"  # the level rises as the value falls (hydrant pressure)


@dataclass(frozen=True, slots=True)
class Metric:
    """One quantity a kind reports, in its canonical unit and physical range."""

    name: str
    unit: Unit
    low: float
    high: float
    zh: str
    description: str

    @property
    def is_flag(self) -> bool:
        return self.unit is Unit.FLAG

    def in_range(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True, slots=True)
class Threshold:
    level: Level
    value: float
    source: str


@dataclass(frozen=True, slots=True)
class ThresholdRule:
    """Level thresholds on one metric, least severe first, with a hysteresis band to clear."""

    metric: str
    direction: Direction
    steps: tuple[Threshold, ...]
    hysteresis: float
    zh: str

    def level_of(self, value: float) -> Level:
        """The level a value deserves, ignoring hysteresis and persistence."""
        level = Level.NONE
        for step in self.steps:
            crossed = (
                value >= step.value if self.direction is Direction.RISING else value <= step.value
            )
            if crossed:
                level = step.level
        return level


@dataclass(frozen=True, slots=True)
class RateRule:
    """An early warning on how fast a metric moves, before any threshold is reached."""

    metric: str
    per_minute: float  # positive: rising at least this fast; negative: falling at least this fast
    window_s: float
    level: Level
    source: str
    below_level: Level  # only while the threshold rule says less than this level


@dataclass(frozen=True, slots=True)
class FlagRule:
    """A boolean the device sets itself, and what it means."""

    flag: str
    anomaly: AnomalyType
    level: Level
    persist_s: float  # how long the flag must stay set before it counts (0: at once)
    source: str


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Where a metric sits in an ecosystem's payload (a dotted path) and in which unit.

    ``unit`` None means the payload already uses the metric's canonical unit.
    """

    path: str
    metric: str
    unit: str | None


@dataclass(frozen=True, slots=True)
class SensorKind:
    name: KindName
    zh: str
    hazard: Hazard
    primary: str
    metrics: tuple[Metric, ...]
    thresholds: tuple[ThresholdRule, ...]
    rates: tuple[RateRule, ...]
    flags: tuple[FlagRule, ...]
    report_interval_s: float
    offline_after_s: float
    timing_source: str
    stuck_after_s: float | None = None  # identical values this long mean a stuck sensor
    ecosystems: Mapping[Ecosystem, tuple[FieldMap, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # Derived from ``metrics`` (the hub looks metrics up for every reading it stores).
    by_name: Mapping[str, Metric] = field(init=False, repr=False, compare=False)
    flag_names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = kind_problems(self)
        if problems:
            raise ValueError(f"sensor kind {self.name}: " + "; ".join(problems))
        object.__setattr__(self, "by_name", MappingProxyType({m.name: m for m in self.metrics}))
        flags = frozenset(m.name for m in self.metrics if m.is_flag)
        object.__setattr__(self, "flag_names", flags)

    def metric(self, name: str) -> Metric:
        found = self.by_name.get(name)
        if found is None:
            known = ", ".join(m.name for m in self.metrics)
            raise KeyError(f"{self.name} has no metric {name!r}; it has: {known}")
        return found

    def has_metric(self, name: str) -> bool:
        return name in self.by_name

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics)

    def threshold_rules(self, metric: str) -> tuple[ThresholdRule, ...]:
        return tuple(r for r in self.thresholds if r.metric == metric)


def kind_problems(kind: SensorKind) -> list[str]:
    """Everything inconsistent in a kind record (a kind with problems cannot be built)."""
    problems: list[str] = []
    names = [m.name for m in kind.metrics]
    if len(set(names)) != len(names):
        problems.append("duplicate metric names")
    by_name = {m.name: m for m in kind.metrics}
    if kind.primary not in by_name:
        problems.append(f"primary metric {kind.primary!r} is not one of its metrics")
    for rule in kind.thresholds:
        metric = by_name.get(rule.metric)
        if metric is None or metric.is_flag:
            problems.append(f"threshold on {rule.metric!r}, which is not a numeric metric")
            continue
        problems.extend(threshold_problems(metric, rule.direction, rule.steps))
    for rate in kind.rates:
        if rate.metric not in by_name or by_name[rate.metric].is_flag:
            problems.append(f"rate rule on {rate.metric!r}, which is not a numeric metric")
    for flag in kind.flags:
        if flag.flag not in by_name or not by_name[flag.flag].is_flag:
            problems.append(f"flag rule on {flag.flag!r}, which is not a flag of this kind")
    for ecosystem, maps in kind.ecosystems.items():
        for fm in maps:
            if fm.metric not in by_name:
                problems.append(f"{ecosystem} field {fm.path!r} maps to unknown {fm.metric!r}")
    if kind.stuck_after_s is not None and kind.stuck_after_s <= kind.report_interval_s:
        problems.append("stuck_after_s must be longer than report_interval_s")
    if not 0 < kind.report_interval_s < kind.offline_after_s:
        problems.append("offline_after_s must be longer than report_interval_s")
    return problems


def threshold_problems(
    metric: Metric, direction: Direction, steps: tuple[Threshold, ...]
) -> list[str]:
    """Problems with a list of thresholds: outside the physical range, out of order."""
    problems: list[str] = []
    for step in steps:
        if not metric.in_range(step.value):
            problems.append(
                f"{step.level} threshold {step.value} {metric.unit} is outside the physical "
                f"range of {metric.name} ({metric.low}..{metric.high} {metric.unit})"
            )
    for a, b in itertools.pairwise(steps):
        if not a.level < b.level:
            problems.append(f"levels must go up: {a.level} is followed by {b.level}")
        ordered = a.value < b.value if direction is Direction.RISING else a.value > b.value
        if not ordered:
            word = "higher" if direction is Direction.RISING else "lower"
            problems.append(
                f"{direction} thresholds out of order: {b.level} ({b.value}) must be {word} "
                f"than {a.level} ({a.value})"
            )
    if any(s.level is Level.NONE for s in steps):
        problems.append("a threshold cannot have level 'none'")
    return problems


# ---------------------------------------------------------------------------------------------
# Small helpers every battery-powered or radio device shares.

NO_SOURCE = "StreetWatch default; no primary source, override per deployment"


def battery() -> tuple[Metric, ...]:
    return (
        Metric("battery", Unit.PERCENT, 0, 100, "电量", "Remaining battery charge."),
        Metric("battery_low", Unit.FLAG, 0, 1, "低电量", "The device reports a low battery."),
    )


def tamper() -> tuple[Metric, ...]:
    return (Metric("tamper", Unit.FLAG, 0, 1, "防拆", "The case was opened or removed."),)


def self_test() -> tuple[Metric, ...]:
    return (Metric("self_test", Unit.FLAG, 0, 1, "自检", "The device's test button or self-test."),)


def radio() -> tuple[Metric, ...]:
    return (
        Metric("linkquality", Unit.LQI, 0, 255, "信号质量", "Zigbee link quality."),
        Metric("rssi", Unit.DBM, -150, 0, "信号强度", "Radio signal strength."),
    )


def device_flag_rules(*flags: str) -> tuple[FlagRule, ...]:
    """The rules for device flags (battery_low, tamper, self_test) that a kind has."""
    rules = (
        FlagRule("battery_low", AnomalyType.BATTERY_LOW, Level.BLUE, 0, NO_SOURCE),
        FlagRule("tamper", AnomalyType.TAMPER, Level.BLUE, 0, NO_SOURCE),
        FlagRule("self_test", AnomalyType.SELF_TEST, Level.NONE, 0, NO_SOURCE),
    )
    return tuple(r for r in rules if r.flag in flags)


TEST_BUTTON: Mapping[Ecosystem, tuple[str, ...]] = MappingProxyType(
    {
        # The IAS Zone status "test" bit, exposed as ``test`` (Heiman HS1SA, HS3SA...).
        Ecosystem.ZIGBEE2MQTT: ("test",),
        # ``object.test``: the device profile's codec decodes the detector's test-button bit, or
        # its "testing alarm" message (Milesight GS524N message types 14 and 15), into ``test``.
        Ecosystem.CHIRPSTACK: ("test",),
        # ``test`` ("ON"/"OFF", like the ``smoke`` switch) beside ``smoke`` in the SENSOR JSON,
        # from the rule or Berry driver that reads the detector's test output.
        Ecosystem.TASMOTA: ("test",),
        # The metric's own name first, then Zigbee2MQTT's, which bridges often pass through.
        Ecosystem.JSON: ("self_test", "test"),
    }
)
"""Ecosystem -> the payload fields, in order, that say the test button is held (``self_test``)."""


def self_test_fields(ecosystem: Ecosystem) -> tuple[FieldMap, ...]:
    """Where a device of ``ecosystem`` reports its test button (``TEST_BUTTON``)."""
    return tuple(FieldMap(path, "self_test", "flag") for path in TEST_BUTTON[ecosystem])


def z2m_common(*, self_test: bool = False) -> tuple[FieldMap, ...]:
    """Fields Zigbee2MQTT exposes for most battery devices (``test``: the test button)."""
    common = (
        FieldMap("battery", "battery", "%"),
        FieldMap("battery_low", "battery_low", "flag"),
        FieldMap("tamper", "tamper", "flag"),
        FieldMap("linkquality", "linkquality", "lqi"),
    )
    return (*common, *self_test_fields(Ecosystem.ZIGBEE2MQTT)) if self_test else common


def codec_battery() -> tuple[FieldMap, ...]:
    """Battery fields a LoRaWAN device-profile codec commonly decodes."""
    return (FieldMap("battery", "battery", "%"), FieldMap("battery_low", "battery_low", "flag"))


def same_names(*metrics: str) -> tuple[FieldMap, ...]:
    """A payload that uses the metric names in canonical units (custom codecs, generic JSON)."""
    return tuple(FieldMap(m, m, None) for m in metrics)


def _ecosystems(**maps: tuple[FieldMap, ...]) -> Mapping[Ecosystem, tuple[FieldMap, ...]]:
    return MappingProxyType({Ecosystem(k): v for k, v in maps.items()})


# ---------------------------------------------------------------------------------------------
# The kinds.

SMOKE = SensorKind(
    name=KindName.SMOKE,
    zh="烟感",
    hazard=Hazard.FIRE,
    primary="smoke_density",
    metrics=(
        Metric("smoke", Unit.FLAG, 0, 1, "烟雾报警", "The detector is in alarm."),
        Metric("smoke_density", Unit.DB_PER_M, 0, 20, "烟雾浓度", "Smoke obscuration in dB/m."),
        *battery(),
        *tamper(),
        *self_test(),
        *radio(),
    ),
    thresholds=(
        ThresholdRule(
            "smoke_density",
            Direction.RISING,
            (
                Threshold(
                    Level.YELLOW,
                    0.05,
                    "GB 4715-2024: point detectors respond at ≥ 0.05 dB/m (most sensitive)",
                ),
                Threshold(
                    Level.ORANGE,
                    0.23,
                    "NIST TN 1455-1: home alarms trip near 5 %/m ≈ 0.23 dB/m",
                ),
            ),
            hysteresis=0.02,
            zh="烟雾浓度",
        ),
    ),
    rates=(),
    flags=(
        FlagRule(
            "smoke",
            AnomalyType.ALARM_FLAG,
            Level.ORANGE,
            0,
            "DOMAIN.md: one detector in alarm = orange; two in a building = red (hub rule)",
        ),
        *device_flag_rules("battery_low", "tamper", "self_test"),
    ),
    report_interval_s=300,
    offline_after_s=900,
    timing_source=NO_SOURCE + " (alarm devices: minutes, not Zigbee2MQTT's 25 h)",
    ecosystems=_ecosystems(
        zigbee2mqtt=(
            FieldMap("smoke", "smoke", "flag"),
            FieldMap("smoke_density_dbm", "smoke_density", "dB/m"),
            FieldMap("smoke_density", "smoke_density", "dB/m"),
            *z2m_common(self_test=True),
        ),
        chirpstack=(
            *same_names("smoke", "smoke_density", "battery", "tamper"),
            *self_test_fields(Ecosystem.CHIRPSTACK),
        ),
        tasmota=(*same_names("smoke", "smoke_density"), *self_test_fields(Ecosystem.TASMOTA)),
        json=(
            *same_names("smoke", "smoke_density", "battery", "battery_low", "tamper"),
            *self_test_fields(Ecosystem.JSON),
        ),
    ),
)

WATER_LEVEL = SensorKind(
    name=KindName.WATER_LEVEL,
    zh="积水",
    hazard=Hazard.FLOOD,
    primary="depth",
    metrics=(
        Metric("depth", Unit.CM, 0, 500, "积水深度", "Water depth above the road or floor."),
        Metric("water_leak", Unit.FLAG, 0, 1, "浸水报警", "A leak/flood contact is wet."),
        *battery(),
        *tamper(),
        *radio(),
    ),
    thresholds=(
        ThresholdRule(
            "depth",
            Direction.RISING,
            (
                Threshold(Level.BLUE, 15, "GB 51222 ponding criterion 15 cm (not verified)"),
                Threshold(Level.YELLOW, 25, "Shanghai underpass signs: no entry from 25 cm"),
                Threshold(Level.ORANGE, 30, "Changzhou road markings: private cars stop at 30 cm"),
                Threshold(Level.RED, 50, "DOMAIN.md: no vehicles at all from 50 cm"),
            ),
            hysteresis=2.0,
            zh="积水深度",
        ),
    ),
    rates=(
        RateRule(
            "depth",
            per_minute=2.0,
            window_s=180,
            level=Level.BLUE,
            source="DOMAIN.md: several cm/min once drains are overwhelmed (Zhengzhou 2025)",
            below_level=Level.YELLOW,
        ),
    ),
    flags=(
        FlagRule("water_leak", AnomalyType.ALARM_FLAG, Level.YELLOW, 0, NO_SOURCE),
        *device_flag_rules("battery_low", "tamper"),
    ),
    report_interval_s=60,
    offline_after_s=300,
    timing_source=NO_SOURCE,
    ecosystems=_ecosystems(
        zigbee2mqtt=(
            FieldMap("water_leak", "water_leak", "flag"),
            FieldMap("liquid_depth", "depth", "m"),
            *z2m_common(),
        ),
        chirpstack=(
            FieldMap("depth", "depth", "cm"),
            FieldMap("water_level_mm", "depth", "mm"),
            FieldMap("water_leak", "water_leak", "flag"),
            *codec_battery(),
        ),
        tasmota=(FieldMap("depth", "depth", "cm"),),
        json=same_names("depth", "water_leak", "battery", "battery_low"),
    ),
)

HYDRANT = SensorKind(
    name=KindName.HYDRANT,
    zh="消火栓",
    hazard=Hazard.WATER_SUPPLY,
    primary="pressure",
    metrics=(
        Metric("pressure", Unit.MPA, 0, 2.5, "管网压力", "Water pressure at the hydrant."),
        Metric("tilt", Unit.DEGREE, 0, 90, "倾斜角", "Tilt from vertical."),
        Metric("flow", Unit.FLAG, 0, 1, "出水", "Water is flowing (valve open)."),
        Metric("cover_open", Unit.FLAG, 0, 1, "栓盖开启", "The outlet cover is open."),
        *battery(),
        *tamper(),
        *radio(),
    ),
    thresholds=(
        ThresholdRule(
            "pressure",
            Direction.FALLING,
            (
                Threshold(
                    Level.YELLOW, 0.14, "GB 55036-2022: mains ≥ 0.14 MPa in normal operation"
                ),
                Threshold(Level.ORANGE, 0.10, "GB 55036-2022: ≥ 0.10 MPa while fighting a fire"),
                Threshold(Level.RED, 0.05, NO_SOURCE + " (hydrant effectively dry)"),
            ),
            hysteresis=0.01,
            zh="管网压力过低",
        ),
        ThresholdRule(
            "pressure",
            Direction.RISING,
            (
                Threshold(
                    Level.YELLOW, 1.0, "DOMAIN.md: monitors alarm above 1.0 MPa (water hammer)"
                ),
            ),
            hysteresis=0.05,
            zh="管网压力过高",
        ),
        ThresholdRule(
            "tilt",
            Direction.RISING,
            (
                Threshold(Level.YELLOW, 30, "DOMAIN.md: tilt beyond 30–45° means a collision"),
                Threshold(Level.ORANGE, 45, "DOMAIN.md: tilt beyond 30–45° means a collision"),
            ),
            hysteresis=3,
            zh="倾斜",
        ),
    ),
    rates=(
        RateRule(
            "pressure",
            per_minute=-0.05,
            window_s=120,
            level=Level.BLUE,
            source=NO_SOURCE + " (sharp drop precedes a main burst, DOMAIN.md)",
            below_level=Level.YELLOW,
        ),
    ),
    flags=(
        FlagRule("flow", AnomalyType.ALARM_FLAG, Level.YELLOW, 10, "DOMAIN.md: flow > ~10 s"),
        FlagRule("cover_open", AnomalyType.ALARM_FLAG, Level.BLUE, 0, NO_SOURCE),
        *device_flag_rules("battery_low", "tamper"),
    ),
    report_interval_s=300,
    offline_after_s=1200,
    timing_source=NO_SOURCE,
    stuck_after_s=6 * 3600,  # mains pressure always wobbles within hours (StreetWatch default)
    ecosystems=_ecosystems(
        # No Zigbee2MQTT mapping: its standard ``pressure`` is atmospheric pressure in hPa.
        chirpstack=(
            FieldMap("pressure", "pressure", "MPa"),
            FieldMap("pressure_kpa", "pressure", "kPa"),
            FieldMap("tilt", "tilt", "deg"),
            FieldMap("flow", "flow", "flag"),
            FieldMap("cover_open", "cover_open", "flag"),
            *codec_battery(),
        ),
        tasmota=(FieldMap("pressure", "pressure", "MPa"),),
        json=same_names("pressure", "tilt", "flow", "cover_open", "battery", "battery_low"),
    ),
)

GAS = SensorKind(
    name=KindName.GAS,
    zh="燃气",
    hazard=Hazard.GAS,
    primary="lel",
    metrics=(
        Metric("lel", Unit.PERCENT_LEL, 0, 100, "可燃气体浓度", "Combustible gas, %LEL (methane)."),
        Metric("gas", Unit.FLAG, 0, 1, "燃气报警", "The detector is in alarm."),
        *battery(),
        *tamper(),
        *self_test(),
        *radio(),
    ),
    thresholds=(
        ThresholdRule(
            "lel",
            Direction.RISING,
            (
                Threshold(Level.YELLOW, 10, "Household detectors alarm at 10–20 %LEL (DOMAIN.md)"),
                Threshold(Level.ORANGE, 25, "GB/T 50493-2019: first alarm at most 25 %LEL"),
                Threshold(Level.RED, 50, "GB/T 50493-2019: second alarm at most 50 %LEL"),
            ),
            hysteresis=2.0,
            zh="可燃气体浓度",
        ),
    ),
    rates=(
        RateRule(
            "lel",
            per_minute=1.0,
            window_s=300,
            level=Level.BLUE,
            source="DOMAIN.md: a steady rise below the first alarm is an early warning",
            below_level=Level.YELLOW,
        ),
    ),
    flags=(
        FlagRule("gas", AnomalyType.ALARM_FLAG, Level.ORANGE, 0, NO_SOURCE),
        *device_flag_rules("battery_low", "tamper", "self_test"),
    ),
    report_interval_s=60,
    offline_after_s=300,
    timing_source=NO_SOURCE,
    ecosystems=_ecosystems(
        zigbee2mqtt=(
            FieldMap("gas", "gas", "flag"),
            FieldMap("gas_value", "lel", "%LEL"),
            *z2m_common(self_test=True),
        ),
        chirpstack=(
            FieldMap("lel", "lel", "%LEL"),
            FieldMap("ch4_ppm", "lel", "ppm"),
            FieldMap("gas", "gas", "flag"),
            *codec_battery(),
            *self_test_fields(Ecosystem.CHIRPSTACK),
        ),
        tasmota=(FieldMap("lel", "lel", "%LEL"), *self_test_fields(Ecosystem.TASMOTA)),
        json=(
            *same_names("lel", "gas", "battery", "battery_low", "tamper"),
            *self_test_fields(Ecosystem.JSON),
        ),
    ),
)

MANHOLE_COVER = SensorKind(
    name=KindName.MANHOLE_COVER,
    zh="井盖",
    hazard=Hazard.ROAD,
    primary="tilt",
    metrics=(
        Metric("tilt", Unit.DEGREE, 0, 90, "倾斜角", "Cover tilt from horizontal."),
        Metric("open", Unit.FLAG, 0, 1, "井盖开启", "The cover is lifted or displaced."),
        *battery(),
        *radio(),
    ),
    thresholds=(
        ThresholdRule(
            "tilt",
            Direction.RISING,
            (Threshold(Level.YELLOW, 15, NO_SOURCE), Threshold(Level.ORANGE, 30, NO_SOURCE)),
            hysteresis=2,
            zh="井盖倾斜",
        ),
    ),
    rates=(),
    flags=(
        FlagRule("open", AnomalyType.ALARM_FLAG, Level.ORANGE, 0, NO_SOURCE),
        *device_flag_rules("battery_low"),
    ),
    report_interval_s=3600,
    offline_after_s=3 * 3600,
    timing_source=NO_SOURCE,
    ecosystems=_ecosystems(
        chirpstack=same_names("tilt", "open"),
        json=same_names("tilt", "open", "battery", "battery_low"),
    ),
)

POWER = SensorKind(
    name=KindName.POWER,
    zh="市电",
    hazard=Hazard.DEVICE,
    primary="mains_voltage",
    metrics=(
        Metric("mains_voltage", Unit.VOLT, 0, 400, "市电电压", "Mains voltage at the gateway."),
        Metric("on_battery", Unit.FLAG, 0, 1, "备电运行", "Running on backup battery."),
        *battery(),
    ),
    thresholds=(
        ThresholdRule(
            "mains_voltage",
            Direction.FALLING,
            (Threshold(Level.BLUE, 198, "GB/T 12325-2008: 220 V supply may deviate −10 %"),),
            hysteresis=5,
            zh="市电电压过低",
        ),
    ),
    rates=(),
    flags=(
        FlagRule("on_battery", AnomalyType.ALARM_FLAG, Level.BLUE, 30, NO_SOURCE),
        *device_flag_rules("battery_low"),
    ),
    report_interval_s=30,
    offline_after_s=120,
    timing_source=NO_SOURCE,
    ecosystems=_ecosystems(
        tasmota=(FieldMap("ENERGY.Voltage", "mains_voltage", "V"),),
        json=same_names("mains_voltage", "on_battery", "battery"),
    ),
)

KINDS: Mapping[KindName, SensorKind] = MappingProxyType(
    {k.name: k for k in (SMOKE, WATER_LEVEL, HYDRANT, GAS, MANHOLE_COVER, POWER)}
)
"""Every sensor kind StreetWatch knows, by name."""


def get_kind(name: str) -> SensorKind:
    """The kind called ``name``, or a ``KeyError`` that lists the known kinds."""
    try:
        return KINDS[KindName(name)]
    except ValueError:
        known = ", ".join(KINDS)
        raise KeyError(f"unknown sensor kind {name!r}; known kinds: {known}") from None

"""Device discovery: which devices publish on the local broker, and what they probably are.

Pure logic, no I/O: ``recognise`` reads one (topic, payload) and guesses the ecosystem from the
topic's shape, the device id in the form ``SourceConfig.device`` expects, and the sensor kind
from the fields present; ``Discovery`` merges guesses across messages per device;
``render_sensors_yaml`` prints a ``sensors:`` block to paste into gateway.yaml.

A kind is guessed from the kind table's field maps for the ecosystem. Where device makers name
fields freely (ChirpStack codecs, Tasmota rules, plain JSON), field names are also compared
with metric names (``waterLevel_mm`` -> depth in mm), and such matches become ``source.fields``
entries in the rendered config. Zigbee2MQTT names are standard, so only the table is used.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from edge.decoders import chirpstack, generic_json, tasmota, zigbee2mqtt
from edge.decoders.base import (
    DecodeFailure,
    as_flag,
    as_number,
    decode_availability,
    leaf_paths,
    load_object,
)
from streetwatch.anomalies import AnomalyType
from streetwatch.kinds import KINDS, Ecosystem, FieldMap, KindName, SensorKind, get_kind
from streetwatch.topics import DEFAULT_BASES, Subject, TopicError, device_filter, parse_device_topic
from streetwatch.units import is_convertible

ECOSYSTEM_ROOTS = (Ecosystem.ZIGBEE2MQTT, Ecosystem.CHIRPSTACK, Ecosystem.TASMOTA)
NOT_DEVICES = ("$SYS", "homeassistant", "tasmota", "stat", "cmnd")
"""Roots that carry no device readings: broker stats, HA discovery, Tasmota's other trees."""

_SKIP = {  # metadata fields that are not readings
    Ecosystem.ZIGBEE2MQTT: zigbee2mqtt.TIME_KEYS,
    Ecosystem.CHIRPSTACK: (),
    Ecosystem.TASMOTA: (*tasmota.TIME_KEYS, *tasmota.UNIT_KEYS),
    Ecosystem.JSON: generic_json.TIME_KEYS,
}
_FREE_NAMES = (Ecosystem.CHIRPSTACK, Ecosystem.TASMOTA, Ecosystem.JSON)


@dataclass(frozen=True, slots=True)
class DeviceGuess:
    """One device seen on the broker and the sensor kind it most probably is."""

    ecosystem: Ecosystem
    device: str  # as SourceConfig.device expects it
    topic: str  # a topic it published on (its state topic once one was seen)
    kind: KindName | None
    matched: tuple[str, ...]  # payload fields that feed the guessed kind
    confidence: float  # 0 when kind is None
    name: str = ""  # a human name when the payload has one (ChirpStack deviceName)
    base: str | None = None  # the ecosystem's base topic when not the default
    fields: tuple[str, ...] = ()  # every numeric or boolean field seen
    field_maps: tuple[FieldMap, ...] = ()  # mappings gateway.yaml needs beyond the kind's own
    candidates: tuple[KindName, ...] = ()  # equally good kinds when kind is None
    online: bool | None = None  # the last availability message, if any


def subscriptions(root: str = "") -> list[str]:
    """What discovery subscribes to: every ecosystem's tree and everything (plain JSON)."""
    filters = [device_filter(eco, _base(eco, root)) for eco in ECOSYSTEM_ROOTS]
    return [*filters, f"{root}/#" if root else "#"]


def recognise(topic: str, payload: bytes, *, root: str = "") -> DeviceGuess | None:
    """The device behind one message, or None for messages that are not device readings."""
    rest = topic[len(root) + 1 :] if root and topic.startswith(root + "/") else topic
    if (root and rest is topic) or rest.split("/")[0] in NOT_DEVICES or "sw/v1/" in rest:
        return None
    for eco in ECOSYSTEM_ROOTS:
        base = _base(eco, root)
        if topic.startswith(base + "/"):
            try:
                where = parse_device_topic(eco, topic, base)
            except TopicError:
                return None
            return _from_ecosystem(eco, where.device, where.subject, topic, payload, root)
    try:
        data = load_object(payload)
    except DecodeFailure:
        return None
    fields = _fields(data, _SKIP[Ecosystem.JSON])
    return _guess(Ecosystem.JSON, topic, topic, None, "", fields, None) if fields else None


def _base(eco: Ecosystem, root: str) -> str:
    return f"{root}/{DEFAULT_BASES[eco]}" if root else DEFAULT_BASES[eco]


def _from_ecosystem(
    eco: Ecosystem, device: str, subject: Subject, topic: str, payload: bytes, root: str
) -> DeviceGuess | None:
    base = _base(eco, root) if root else None
    if subject is Subject.AVAILABILITY:
        try:
            online = decode_availability(payload).online
        except DecodeFailure:
            return None
        return _guess(eco, device, topic, base, "", (), online)
    try:
        data = load_object(payload)
    except DecodeFailure:
        return None
    name = ""
    if eco is Ecosystem.CHIRPSTACK:
        info = data.get("deviceInfo")
        raw_name = info.get("deviceName") if isinstance(info, dict) else data.get("deviceName")
        name = raw_name if isinstance(raw_name, str) else device.partition(":")[2]
        try:
            data = chirpstack.codec_object(data) if subject is Subject.STATE else {}
        except DecodeFailure:
            data = {}
    return _guess(eco, device, topic, base, name, _fields(data, _SKIP[eco]), None)


def _fields(data: Mapping[str, Any], skip: Iterable[str]) -> tuple[str, ...]:
    """Paths of the fields a decoder could read as a number or a flag."""
    skipped = set(skip)
    return tuple(p for p, value in leaf_paths(data) if p not in skipped and _readable(value))


def _readable(value: Any) -> bool:
    for read in (as_number, as_flag):
        try:
            read(value)
        except ValueError:
            continue
        return True
    return False


# ---------------------------------------------------------------------------------------------
# Guessing the kind.

_UNIT_TOKENS = {
    "mm": "mm", "cm": "cm", "m": "m", "kpa": "kPa", "mpa": "MPa", "bar": "bar", "psi": "psi",
    "ppm": "ppm", "lel": "%LEL", "pct": "%", "percent": "%", "mv": "mV", "v": "V",
    "deg": "deg", "dbm": "dBm",
}  # fmt: skip
_ALIASES = {
    "level": "depth", "water_level": "depth", "water_depth": "depth", "flood_depth": "depth",
    "leak": "water_leak", "flood": "water_leak", "leak_alarm": "water_leak",
    "ch4": "lel", "methane": "lel", "gas_lel": "lel", "gas_concentration": "lel",
    "smoke_alarm": "smoke", "gas_alarm": "gas", "water_pressure": "pressure",
    "tilt_angle": "tilt", "angle": "tilt", "inclination": "tilt", "water_flow": "flow",
    "cover": "cover_open", "lid_open": "open", "battery_level": "battery", "bat": "battery",
    "batt": "battery", "low_battery": "battery_low", "battery_alarm": "battery_low",
    "tampered": "tamper", "tamper_alarm": "tamper", "test": "self_test", "signal": "rssi",
    "lqi": "linkquality", "link_quality": "linkquality", "mains": "mains_voltage",
    "ac_voltage": "mains_voltage",
}  # fmt: skip


def similar_metric(path: str, kind: SensorKind) -> tuple[str, str | None] | None:
    """(metric, unit) of ``kind`` that a field's name suggests, or None."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", path.rsplit(".", 1)[-1])
    name = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    head, _, tail = name.rpartition("_")
    unit = _UNIT_TOKENS.get(tail) if head else None
    if unit is not None:
        name = head
    name = name.removeprefix("is_")
    metric = name if kind.has_metric(name) else _ALIASES.get(name)
    if metric is None:
        close = difflib.get_close_matches(name, kind.metric_names, n=1, cutoff=0.85)
        metric = close[0] if close else None
    if metric is None or not kind.has_metric(metric):
        return None
    canonical = kind.metric(metric).unit
    if unit is not None and (canonical.value == "flag" or not is_convertible(unit, canonical)):
        return None
    return metric, None if unit == canonical.value else unit


def _distinctive(kind: SensorKind) -> set[str]:
    """Metrics that tell a kind apart (not battery, tamper, radio): primary, rules, alarms."""
    flags = {f.flag for f in kind.flags if f.anomaly is AnomalyType.ALARM_FLAG}
    rules = {r.metric for r in kind.thresholds} | {r.metric for r in kind.rates}
    return {kind.primary, *rules, *flags}


@dataclass(frozen=True, slots=True)
class _Fit:
    kind: SensorKind
    metrics: dict[str, str]  # metric -> field path
    extra: tuple[FieldMap, ...]
    distinctive: int
    from_table: bool

    @property
    def rank(self) -> tuple[int, bool, int]:
        return (self.distinctive, self.kind.primary in self.metrics, len(self.metrics))


def _fit(kind: SensorKind, eco: Ecosystem, fields: tuple[str, ...]) -> _Fit:
    metrics: dict[str, str] = {}
    for fm in kind.ecosystems.get(eco, ()):
        if fm.path in fields and fm.metric not in metrics and fm.path not in metrics.values():
            metrics[fm.metric] = fm.path
    table = set(metrics)
    extra = []
    if eco in _FREE_NAMES:
        for path in fields:
            found = None if path in metrics.values() else similar_metric(path, kind)
            if found is not None and found[0] not in metrics:
                metrics[found[0]] = path
                extra.append(FieldMap(path, found[0], found[1]))
    distinct = _distinctive(kind)
    return _Fit(kind, metrics, tuple(extra), len(distinct & set(metrics)), bool(distinct & table))


def _guess(
    eco: Ecosystem,
    device: str,
    topic: str,
    base: str | None,
    name: str,
    fields: tuple[str, ...],
    online: bool | None,
) -> DeviceGuess:
    seen = DeviceGuess(eco, device, topic, None, (), 0.0, name, base, fields, online=online)
    return with_kind(seen)


def with_kind(guess: DeviceGuess) -> DeviceGuess:
    """``guess`` with its kind, matched fields and confidence worked out from its fields."""
    plain = replace(guess, kind=None, matched=(), confidence=0.0, field_maps=(), candidates=())
    fits = sorted(
        (
            f
            for f in (_fit(k, guess.ecosystem, guess.fields) for k in KINDS.values())
            if f.distinctive
        ),
        key=lambda f: f.rank,
        reverse=True,
    )
    if not fits:
        return plain
    best = fits[0]
    ties = tuple(sorted(f.kind.name for f in fits if f.rank == best.rank))
    if len(ties) > 1:
        return replace(plain, candidates=ties)
    runner_up = fits[1].distinctive if len(fits) > 1 else 0
    share = best.distinctive / (best.distinctive + runner_up)
    return replace(
        plain,
        kind=best.kind.name,
        matched=tuple(p for p in guess.fields if p in best.metrics.values()),
        confidence=round((0.9 if best.from_table else 0.6) * share, 2),
        field_maps=best.extra,
    )


# ---------------------------------------------------------------------------------------------
# Accumulating and rendering.


class Discovery:
    """Guesses merged per device across messages: fields seen add up, the kind follows."""

    def __init__(self, root: str = "") -> None:
        self.root = root
        self.messages = 0
        self._devices: dict[tuple[Ecosystem, str, str], DeviceGuess] = {}

    def observe(self, topic: str, payload: bytes) -> DeviceGuess | None:
        self.messages += 1
        guess = recognise(topic, payload, root=self.root)
        return None if guess is None else self.add(guess)

    def add(self, guess: DeviceGuess) -> DeviceGuess:
        key = (guess.ecosystem, guess.base or "", guess.device)
        old = self._devices.get(key)
        if old is not None:
            fields = (*old.fields, *(f for f in guess.fields if f not in old.fields))
            guess = with_kind(
                replace(
                    old,
                    topic=guess.topic if guess.fields and not old.fields else old.topic,
                    name=guess.name or old.name,
                    fields=fields,
                    online=old.online if guess.online is None else guess.online,
                )
            )
        self._devices[key] = guess
        return guess

    @property
    def guesses(self) -> tuple[DeviceGuess, ...]:
        return tuple(sorted(self._devices.values(), key=lambda g: (g.ecosystem, g.device)))


_SHORT = {Ecosystem.ZIGBEE2MQTT: "z2m", Ecosystem.CHIRPSTACK: "lora", Ecosystem.TASMOTA: "tasmota"}


def sensor_id(guess: DeviceGuess) -> str:
    """A slug for the sensor id, made from the device's name."""
    slug = re.sub(r"[^a-z0-9_]+", "-", (guess.name or guess.device).lower())
    slug = slug.strip("-_")[:64].strip("-_")
    if len(slug) < 3:  # a Chinese or empty name: say where it came from instead
        digest = hashlib.sha1(guess.device.encode()).hexdigest()[:8]
        slug = f"{_SHORT.get(guess.ecosystem, 'json')}-{digest}"
    return slug


def _q(text: str) -> str:
    """A double-quoted scalar that is valid YAML (JSON strings are)."""
    return json.dumps(text, ensure_ascii=False)


def _listing(paths: tuple[str, ...], most: int = 12) -> str:
    shown = ", ".join(_q(p)[1:-1] for p in paths[:most])
    return shown + (f" and {len(paths) - most} more" if len(paths) > most else "")


_PLACEMENT_EXAMPLE = "{building: b1, floor: -1, risk_point: basement}"


def _entry(guess: DeviceGuess, sensor: str) -> list[str]:
    source = [f"    ecosystem: {guess.ecosystem.value}", f"    device: {_q(guess.device)}"]
    if guess.base is not None:
        source.append(f"    base_topic: {_q(guess.base)}")
    if guess.field_maps:
        source.append("    fields:")
        for fm in guess.field_maps:
            unit = "" if fm.unit is None else f", unit: {_q(fm.unit)}"
            line = f"      - {{path: {_q(fm.path)}, metric: {fm.metric}{unit}}}"
            if fm.unit is None and guess.kind is not None:  # a guess from the name alone
                line += f"  # assumed in {get_kind(guess.kind).metric(fm.metric).unit}: check"
            source.append(line)
    kind = guess.kind.value if guess.kind else "TODO"
    return [
        f"- id: {sensor}",
        f"  kind: {kind}",
        "  source:",
        *source,
        f"  # TODO placement: where is it? e.g. placement: {_PLACEMENT_EXAMPLE}",
    ]


def _note(guess: DeviceGuess) -> str:
    where = f"{guess.ecosystem.value} {_q(guess.name or guess.device)}"
    if guess.kind is not None:
        sure = f"confidence {guess.confidence:.2f}"
        return f"# {where}: {guess.kind.value}, {sure}, from {_listing(guess.matched)}"
    if guess.candidates:
        why = "could be " + " or ".join(k.value for k in guess.candidates)
    elif guess.fields:
        why = "kind unknown"
    else:
        why = "no readings seen yet, only its availability"
    fields = f" (fields: {_listing(guess.fields)})" if guess.fields else ""
    return f"# {where}: {why}{fields}; set kind and map fields under source.fields, then uncomment:"


def render_sensors_yaml(guesses: Iterable[DeviceGuess]) -> str:
    """A ``sensors:`` block for gateway.yaml; devices of unknown kind are commented out."""
    ordered = sorted(guesses, key=lambda g: (g.kind is None, g.ecosystem, g.device))
    known = any(g.kind is not None for g in ordered)
    lines = ["sensors:" if known else "sensors: []  # no device could be given a kind yet"]
    ids: set[str] = set()
    for guess in ordered:
        sensor = base_id = sensor_id(guess)
        n = 1
        while sensor in ids:
            n += 1
            sensor = f"{base_id[:60]}-{n}"
        ids.add(sensor)
        entry = _entry(guess, sensor)
        if guess.kind is None:
            entry = [("# " + line).replace("#   # TODO", "#   TODO") for line in entry]
        lines.extend("  " + line for line in (_note(guess), *entry))
    return "\n".join(lines) + "\n"

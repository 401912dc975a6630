"""How a simulated device publishes on its gateway's local broker, exactly as real ones do.

A ``DeviceSpec`` says which ecosystem a device belongs to, how that ecosystem names it
(``streetwatch.topics.DeviceTopic``) and which payload fields it uses: its own ``fields`` first,
then the kind table's ``FieldMap``s, the order the edge reads them in (gateway.yaml
``source.fields``). For each metric the first map wins. ``payloads`` turns one ``Sample`` of
canonical metric values into the publishes of that device (or its bridge); ``Transmitter``
(``simulators.devices.transmitter``) keeps what a real device keeps between reports. One module
per ecosystem registers its encoder in ``ENCODERS`` with ``@encoder``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from simulators.devices.encoding import Raw, published
from streetwatch.kinds import Ecosystem, FieldMap, KindName, SensorKind, get_kind
from streetwatch.topics import DeviceTopic, Subject
from streetwatch.units import is_convertible

_DEV_EUI = re.compile(r"[0-9A-Fa-f]{16}")

Value = float | bool
"""A metric value in its canonical unit (flags are bools)."""


class Publish(NamedTuple):
    topic: str
    payload: bytes
    retain: bool = False


@dataclass(frozen=True, slots=True)
class Sample:
    """What a simulated sensor measured at ``t_ms``, in canonical units (``KINDS``).

    ``battery``, ``linkquality`` and ``rssi`` are the device's own state beside the measurement.
    ``skew_ms`` is the device clock's error: its time fields say ``t_ms + skew_ms``.
    """

    sensor: str
    kind: KindName
    t_ms: int
    values: Mapping[str, Value]
    battery: float | None = None
    linkquality: float | None = None
    rssi: float | None = None
    skew_ms: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", KindName(self.kind))
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))
        kind = get_kind(self.kind)
        for name, value in self.metrics().items():
            metric = kind.metric(name)  # KeyError naming the kind's metrics
            if metric.is_flag != isinstance(value, bool) or not math.isfinite(value):
                want = "a bool" if metric.is_flag else "a finite number"
                raise ValueError(f"sample of {self.sensor}: {name} must be {want}, not {value!r}")

    def metrics(self) -> dict[str, Value]:
        """Every value the sample holds, the device state included."""
        state = {"battery": self.battery, "linkquality": self.linkquality, "rssi": self.rssi}
        return {**self.values, **{k: v for k, v in state.items() if v is not None}}

    @property
    def device_ms(self) -> int:
        """The time the device's clock shows."""
        return self.t_ms + self.skew_ms


@dataclass(frozen=True, slots=True)
class Message:
    """One publish as it leaves a device: the unit delivery faults drop, repeat and reorder."""

    sensor: str
    t_ms: int
    publish: Publish


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """A simulated device: ecosystem, name in it, kind, fields, and its settings."""

    ecosystem: Ecosystem
    device: (
        str  # Z2M friendly name, ChirpStack "<application id>:<dev_eui>", Tasmota topic, JSON topic
    )
    kind: KindName
    fields: tuple[FieldMap, ...] = ()
    base: str | None = None  # the ecosystem's base topic if not the default
    utc_offset_s: int = 8 * 3600  # the device's local time zone (Beijing)
    timestamps: bool = True  # Z2M advanced.last_seen; JSON "ts" (ChirpStack and Tasmota: always)
    tasmota_zone: bool = True  # Tasmota SetOption52: "Time" carries its zone
    f_port: int = 2  # LoRaWAN application port

    def __post_init__(self) -> None:
        object.__setattr__(self, "ecosystem", Ecosystem(self.ecosystem))
        object.__setattr__(self, "kind", KindName(self.kind))
        kind = self.sensor_kind
        if self.ecosystem not in kind.ecosystems and not self.fields:
            known = ", ".join(kind.ecosystems)
            raise ValueError(
                f"device {self.device!r}: no {self.ecosystem} device reports {kind.name} in the "
                f"kind table (it has mappings for: {known}); give the spec fields, or pick one"
            )
        for fm in self.fields:
            metric = kind.metric(fm.metric)
            if fm.unit is not None and not is_convertible(fm.unit, metric.unit):
                raise ValueError(
                    f"device {self.device!r}: {fm.path} in {fm.unit} is not a {metric.unit}"
                )
        app, _, eui = self.device.partition(":")
        if self.ecosystem is Ecosystem.CHIRPSTACK and not (app and _DEV_EUI.fullmatch(eui)):
            raise ValueError(
                f"ChirpStack device {self.device!r} must be '<application id>:<dev_eui>', "
                "the DevEUI in 16 hex digits"
            )

    @property
    def sensor_kind(self) -> SensorKind:
        return get_kind(self.kind)

    def field_maps(self) -> tuple[FieldMap, ...]:
        """The maps the edge reads this device with: its own fields, then the kind's."""
        return self.fields + self.sensor_kind.ecosystems.get(self.ecosystem, ())

    def chosen(self) -> dict[str, FieldMap]:
        """Metric -> the field the device publishes it in (the first map for it)."""
        chosen: dict[str, FieldMap] = {}
        for fm in self.field_maps():
            chosen.setdefault(fm.metric, fm)
        return chosen

    def topic(self, subject: Subject = Subject.STATE) -> str:
        name = self.device
        if self.ecosystem is Ecosystem.CHIRPSTACK:  # ChirpStack writes DevEUIs in lower case
            app, _, eui = name.partition(":")
            name = f"{app}:{eui.lower()}"
        return DeviceTopic(self.ecosystem, name, subject).build(self.base)


Encoder = Callable[[Sample, DeviceSpec, int], list[Publish]]

ENCODERS: dict[Ecosystem, Encoder] = {}
"""Ecosystem -> encoder, filled by ``@encoder``; importing ``simulators.devices`` fills it."""

EXTRA: dict[Ecosystem, tuple[str, ...]] = {}
"""Metrics an ecosystem carries outside the field maps (ChirpStack: rxInfo RSSI, status)."""


def encoder(ecosystem: Ecosystem, extra: tuple[str, ...] = ()) -> Callable[[Encoder], Encoder]:
    def register(fn: Encoder) -> Encoder:
        ENCODERS[ecosystem] = fn
        EXTRA[ecosystem] = extra
        return fn

    return register


def fields(sample: Sample, device: DeviceSpec) -> list[tuple[str, Raw]]:
    """(path, value as published) for every value of the sample the device has a field for,
    then every other flag it has a field for, ``false``.

    Real devices put each of their flags (alarm, tamper, battery low, test button: status bits
    of the IAS Zone, of a LoRaWAN frame, of a switch) in every message, and the edge reads a
    missing flag as unchanged: a device that said ``true`` once and then left the field out
    would look tampered, flat or pressed for good.
    """
    kind, chosen = device.sensor_kind, device.chosen()
    values = sample.metrics()
    for name in chosen:
        if kind.metric(name).is_flag:
            values.setdefault(name, False)
    return [
        (chosen[name].path, published(value, chosen[name], kind.metric(name)))
        for name, value in values.items()
        if name in chosen
    ]


def carried(device: DeviceSpec) -> frozenset[str]:
    """The metrics this device's messages carry to the edge; the others it cannot send."""
    extra = {m for m in EXTRA.get(device.ecosystem, ()) if device.sensor_kind.has_metric(m)}
    return frozenset(device.chosen()) | extra


def payloads(sample: Sample, device: DeviceSpec, *, fcnt: int = 0) -> list[Publish]:
    """What ``device`` publishes for ``sample`` (``fcnt``: the LoRaWAN frame counter)."""
    if sample.kind is not device.kind:
        raise ValueError(f"sample of a {sample.kind} for {device.device!r}, a {device.kind}")
    return ENCODERS[device.ecosystem](sample, device, fcnt)


_AVAILABILITY: Mapping[Ecosystem, Callable[[bool], bytes]] = MappingProxyType(
    {
        Ecosystem.ZIGBEE2MQTT: lambda up: b'{"state":"online"}' if up else b'{"state":"offline"}',
        Ecosystem.TASMOTA: lambda up: b"Online" if up else b"Offline",
    }
)


def availability(device: DeviceSpec, online: bool = True) -> list[Publish]:
    """The retained online/offline message (Z2M availability, Tasmota LWT); none elsewhere."""
    render = _AVAILABILITY.get(device.ecosystem)
    if render is None:
        return []
    return [Publish(device.topic(Subject.AVAILABILITY), render(online), retain=True)]

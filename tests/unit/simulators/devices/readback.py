"""Reading simulated publishes back through the real edge decoders, as a gateway would."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from edge.decoders import decode
from simulators.devices import DeviceSpec, Publish
from simulators.devices.encoding import decimals, device_unit
from streetwatch.kinds import KINDS, Ecosystem, FieldMap
from streetwatch.topics import Subject, parse_device_topic
from streetwatch.units import convert

NAMES: Mapping[Ecosystem, str] = MappingProxyType(
    {
        Ecosystem.ZIGBEE2MQTT: "floor3/stair_smoke_2",
        Ecosystem.CHIRPSTACK: "5f2c1d4e-8a7b-4c3d-9e1f-2a3b4c5d6e7f:0004A30B001C0001",
        Ecosystem.TASMOTA: "sump-2",
        Ecosystem.JSON: "nbiot/sensor-9/up",
    }
)


@dataclass
class ReadBack:
    values: dict[str, float | bool] = field(default_factory=dict)
    times: list[int | None] = field(default_factory=list)
    online: bool | None = None
    subjects: list[Subject] = field(default_factory=list)


def read_back(publishes: Iterable[Publish], device: DeviceSpec) -> ReadBack:
    """Every publish decoded by the edge with the maps a gateway would configure for it."""
    out = ReadBack()
    for publish in publishes:
        topic = parse_device_topic(device.ecosystem, publish.topic, device.base)
        assert topic.device.lower() == device.device.lower()
        decoded = decode(
            device.ecosystem,
            publish.payload,
            topic.subject,
            device.field_maps(),
            device.sensor_kind,
        )
        out.subjects.append(topic.subject)
        if topic.subject is Subject.AVAILABILITY:
            out.online = decoded.online
            continue
        assert not decoded.problems, decoded.problems
        out.values.update(decoded.values)
        out.times.append(decoded.device_time_ms)
    return out


def tolerance(device: DeviceSpec, metric: str, value: float) -> float:
    """Half the device's resolution in the metric's unit, plus float noise."""
    spec = device.sensor_kind.metric(metric)
    fm = device.chosen().get(metric, FieldMap(metric, metric, None))
    unit = device_unit(fm, spec)
    half = 0.5 * 10.0 ** -decimals(unit)
    step = abs(convert(half, unit, spec.unit) - convert(0.0, unit, spec.unit))
    return step + 1e-9 * max(1.0, abs(value))


def variants() -> list[DeviceSpec]:
    """Every kind in every ecosystem it supports: the default device, then one device per
    alternative field of the table (water_level_mm, pressure_kpa, ch4_ppm, smoke_density...)."""
    specs = []
    for kind in KINDS.values():
        for ecosystem, maps in kind.ecosystems.items():
            default = DeviceSpec(ecosystem, NAMES[ecosystem], kind.name)
            specs.append(default)
            chosen = set(default.chosen().values())
            specs += [
                DeviceSpec(ecosystem, NAMES[ecosystem], kind.name, fields=(fm,))
                for fm in maps
                if fm not in chosen
            ]
    return specs


def spec_id(device: DeviceSpec) -> str:
    extra = f"-{device.fields[0].path}" if device.fields else ""
    return f"{device.kind}-{device.ecosystem}{extra}"

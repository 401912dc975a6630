"""A device's own flags (tamper, battery_low) clear at the edge once the device's fault is over.

Simulated devices (``simulators.devices``) publish what real ones do: every flag they have a
field for, in every message, false unless set. The edge reads a missing flag as unchanged, so
a device that left the flag out after the fault would keep its finding raised for good. Each
case runs a ``Tamper`` or ``LowBattery`` fault through the whole pipeline (route, decode,
validate, detect) and wants one RAISED finding at the fault's start and one CLEARED at its end.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from edge.config import GatewayConfig
from edge.detectors.base import Finding
from edge.pipeline import Pipeline
from simulators.devices import (
    DeviceSpec,
    LowBattery,
    Sample,
    SampleFault,
    Tamper,
    carried,
    payloads,
)
from streetwatch.anomalies import AnomalyType
from streetwatch.counters import Counters
from streetwatch.kinds import KINDS, Ecosystem, FieldMap, KindName
from streetwatch.levels import Level
from streetwatch.messages import EventState

T0 = 1_795_312_800_000  # 2026-11-22T02:00:00Z
S = 1000
START_S, END_S = 10, 30  # the fault's window
DEVICES = {
    Ecosystem.ZIGBEE2MQTT: "b3/street-device",
    Ecosystem.CHIRPSTACK: "5f2c1d4e-8a7b-4c3d-9e1f-2a3b4c5d6e7f:A84041000181C9E2",
    Ecosystem.TASMOTA: "street-device",
    Ecosystem.JSON: "nbiot/street-device/up",
}
FAULTS: dict[str, tuple[SampleFault, AnomalyType]] = {
    "tamper": (Tamper(start_ms=T0 + START_S * S, end_ms=T0 + END_S * S), AnomalyType.TAMPER),
    "battery_low": (
        LowBattery(start_ms=T0 + START_S * S, end_ms=T0 + END_S * S),
        AnomalyType.BATTERY_LOW,
    ),
}
# The kind table gives Tasmota no tamper or battery-low field: a detector read by a rule or
# Berry driver reports them under names the installer maps (docs/edge.md §3.9).
TASMOTA_MAPPED = (
    FieldMap("Switch2", "tamper", "flag"),
    FieldMap("Detector.BatteryLow", "battery_low", "flag"),
)


def cases() -> list[tuple[str, DeviceSpec]]:
    """Every (flag, device) of the kind table whose device carries the flag, and Tasmota's."""
    found = []
    for kind in KINDS.values():
        rules = {r.flag for r in kind.flags}
        for ecosystem in kind.ecosystems:
            device = DeviceSpec(ecosystem, DEVICES[ecosystem], kind.name)
            found += [(flag, device) for flag in FAULTS if flag in rules & carried(device)]
    mapped = DeviceSpec(
        Ecosystem.TASMOTA, DEVICES[Ecosystem.TASMOTA], KindName.SMOKE, TASMOTA_MAPPED
    )
    found += [(flag, mapped) for flag in FAULTS]
    return found


CASES = cases()


def case_id(case: tuple[str, DeviceSpec]) -> str:
    flag, device = case
    return f"{flag}-{device.kind}-{device.ecosystem}" + ("-mapped" if device.fields else "")


def pipeline_for(device: DeviceSpec) -> Pipeline:
    source = {
        "ecosystem": device.ecosystem,
        "device": device.device,
        "fields": [{"path": f.path, "metric": f.metric, "unit": f.unit} for f in device.fields],
    }
    sensor = {"id": "device-1", "kind": device.kind, "source": source}
    config = GatewayConfig.model_validate(
        {
            "gateway": {
                "id": "gw-lianyang-01",
                "area": {"district": "pudong", "street": "huamu", "community": "lianyang"},
            },
            "uplink": {"host": "127.0.0.1"},
            "sensors": [sensor],
        }
    )
    return Pipeline(config, Counters())


def stream(kind: KindName, seconds: int) -> list[Sample]:
    """A quiet device reporting every 2 s, its battery fine."""
    spec = KINDS[kind]
    battery = 80.0 if spec.has_metric("battery") else None
    return [
        Sample("device-1", kind, T0 + s * S, {spec.primary: 0.0}, battery=battery)
        for s in range(0, seconds, 2)
    ]


def run(device: DeviceSpec, pipeline: Pipeline, samples: Iterable[Sample]) -> list[Finding]:
    findings: list[Finding] = []
    for sample in samples:
        for publish in payloads(sample, device):
            out = pipeline.on_message(publish.topic, publish.payload, sample.t_ms)
            findings += [f for _, f in out.findings]
    assert pipeline.counters.items() == [], pipeline.counters.items()  # nothing rejected
    return findings


def test_every_ecosystem_is_covered() -> None:
    covered = {(flag, device.ecosystem) for flag, device in CASES}
    assert covered == {(flag, e) for flag in FAULTS for e in Ecosystem}


@pytest.mark.parametrize(("flag", "device"), CASES, ids=map(case_id, CASES))
def test_a_device_flag_clears_when_the_fault_ends(flag: str, device: DeviceSpec) -> None:
    fault, anomaly = FAULTS[flag]
    pipeline = pipeline_for(device)
    findings = run(device, pipeline, fault.apply(stream(device.kind, 60), []))
    mine = [(f.type, f.level, f.state, f.t) for f in findings if f.key == f"flag:{flag}"]
    assert mine == [
        (anomaly, Level.BLUE, EventState.RAISED, T0 + START_S * S),
        (anomaly, Level.BLUE, EventState.CLEARED, T0 + END_S * S),
    ]
    assert f"flag:{flag}" not in pipeline.monitors["device-1"].active

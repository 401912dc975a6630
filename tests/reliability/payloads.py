"""Valid payloads to start from: what real devices and gateways send, built by the simulators.

Edge: one simulated device (``simulators.devices``) per (sensor kind, ecosystem) pair of the kind
table, each feeding one configured sensor of one gateway config. Hub: the wire messages of a
``support.fleet.VirtualGateway`` in a street of the example city, encoded by
``streetwatch.codec``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from support.fleet import VirtualGateway

from edge.config import GatewayConfig
from hub.city import CityConfig
from simulators.devices import DeviceSpec, Publish, Sample, availability, payloads
from streetwatch.codec import encode
from streetwatch.kinds import KINDS, Ecosystem, KindName, SensorKind
from streetwatch.location import Area
from streetwatch.messages import LostRange, MetricStats, WindowSummary
from streetwatch.topics import Channel, Subject

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_795_312_800_000  # 2026-11-22T02:00:00Z
APPLICATION = "5f2c1d4e-8a7b-4c3d-9e1f-2a3b4c5d6e7f"  # a ChirpStack application id
DEVICE_STATE = ("battery", "linkquality", "rssi")  # Sample keeps these beside the values


# ---------------------------------------------------------------------------------------------
# Edge: simulated devices and the gateway config that reads them.


@dataclass(frozen=True, slots=True)
class Device:
    """A simulated device of one (kind, ecosystem) and the sensor it feeds on the gateway."""

    spec: DeviceSpec
    sensor: str

    @property
    def kind(self) -> SensorKind:
        return self.spec.sensor_kind

    @property
    def ecosystem(self) -> Ecosystem:
        return self.spec.ecosystem

    def subjects(self) -> tuple[Subject, ...]:
        """What this ecosystem's devices publish about (measurements, status, availability)."""
        return {
            Ecosystem.ZIGBEE2MQTT: (Subject.STATE, Subject.AVAILABILITY),
            Ecosystem.CHIRPSTACK: (Subject.STATE, Subject.STATUS),
            Ecosystem.TASMOTA: (Subject.STATE, Subject.AVAILABILITY),
            Ecosystem.JSON: (Subject.STATE,),
        }[self.ecosystem]

    def topic(self, subject: Subject = Subject.STATE) -> str:
        return self.spec.topic(subject)

    def sample(self, t_ms: int, level: float) -> Sample:
        """Every metric of the kind at ``level`` (0..1) of its physical range, flags off."""
        kind = self.kind
        values: dict[str, float | bool] = {}
        for m in kind.metrics:
            if m.name not in DEVICE_STATE:
                values[m.name] = False if m.is_flag else round(m.low + level * (m.high - m.low))
        return Sample(
            self.sensor,
            kind.name,
            t_ms,
            values,
            battery=_state_value(kind, "battery", level),
            linkquality=_state_value(kind, "linkquality", level),
            rssi=_state_value(kind, "rssi", level),
        )

    def good(self, t_ms: int, level: float = 0.5) -> list[Publish]:
        """What the device publishes for a plausible sample taken at ``t_ms``."""
        return payloads(self.sample(t_ms, level), self.spec)

    def availability(self, online: bool) -> list[Publish]:
        return availability(self.spec, online)


def _state_value(kind: SensorKind, name: str, level: float) -> float | None:
    if not kind.has_metric(name):
        return None
    m = kind.metric(name)
    return float(round(m.low + level * (m.high - m.low)))


def _device_name(ecosystem: Ecosystem, kind: KindName, index: int) -> str:
    return {
        Ecosystem.ZIGBEE2MQTT: f"b3/{kind.value}",
        Ecosystem.CHIRPSTACK: f"{APPLICATION}:A840410001810{index:03X}",
        Ecosystem.TASMOTA: f"{kind.value}-box",
        Ecosystem.JSON: f"nbiot/{kind.value}/up",
    }[ecosystem]


@cache
def devices() -> tuple[Device, ...]:
    """One device per (kind, ecosystem) pair the kind table maps: every decoder, every kind."""
    found = []
    for index, kind in enumerate(KINDS.values()):
        for ecosystem in kind.ecosystems:
            spec = DeviceSpec(ecosystem, _device_name(ecosystem, kind.name, index), kind.name)
            found.append(Device(spec, f"{kind.name.value}-{ecosystem.value}".replace("_", "-")))
    return tuple(found)


@cache
def gateway_config() -> GatewayConfig:
    """A gateway with one sensor per device of ``devices()``."""
    sensors: list[dict[str, Any]] = [
        {
            "id": d.sensor,
            "kind": d.kind.name.value,
            "source": {"ecosystem": d.ecosystem.value, "device": d.spec.device},
        }
        for d in devices()
    ]
    return GatewayConfig.model_validate(
        {
            "gateway": {
                "id": "gw-reliability",
                "area": {"district": "pudong", "street": "huamu", "community": "lianyang"},
            },
            "uplink": {"host": "127.0.0.1"},
            "sensors": sensors,
        }
    )


# ---------------------------------------------------------------------------------------------
# Hub: the example city and virtual gateways in it.

HUAMU = Area(district="pudong", street="huamu", community="lianyang")
YANGJING = Area(district="pudong", street="yangjing", community="juquan")


@cache
def city() -> CityConfig:
    """The city of examples/hub.yaml."""
    data = yaml.safe_load((ROOT / "examples" / "hub.yaml").read_text(encoding="utf-8"))
    return CityConfig.model_validate(data["city"])


def gateway(name: str, area: Area = HUAMU, boot: str = "0123456789abcdef") -> VirtualGateway:
    """A virtual gateway with a fixed boot id, so that examples replay exactly."""
    return VirtualGateway(name, area, sensors=2, boot=boot)


def wire_messages(g: VirtualGateway, t: int) -> list[tuple[Channel, bytes]]:
    """One of every message ``g`` sends (birth, death, telemetry with readings and with a
    summary, event, health with a lost range), encoded, with its channel. ``g`` counts on."""
    summary = WindowSummary(
        sensor=g.sensor_ids()[0],
        kind=KindName.WATER_LEVEL,
        start=t - 60_000,
        end=t,
        stats={"depth": MetricStats(min=0.1, max=0.3, mean=0.2, last=0.25, count=6)},
        flags={"water_leak": False},
    )
    lost = LostRange(boot=g.boot, channel="data", first=0, last=2)
    return [
        (Channel.STATE, encode(g.birth(t))),
        (Channel.STATE, encode(g.birth(t, online=False))),
        (Channel.DATA, encode(g.telemetry(t))),
        (Channel.DATA, encode(g.telemetry(t).model_copy(update={"summaries": (summary,)}))),
        (Channel.EVENT, encode(g.event(t))),
        (Channel.HEALTH, encode(g.health(t, lost=(lost,)))),
    ]

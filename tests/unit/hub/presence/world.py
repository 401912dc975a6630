"""A small world for presence tests: the example city, a registry, a tracker and its events.

Time is plain integer milliseconds. Gateways send health every 10 s, so with the default
silence factor of 3 a gateway is silent 30 s after it was last heard; hold_s is 30 s.
"""

from __future__ import annotations

from pathlib import Path

from support.city import example_city

from hub.city import CityConfig
from hub.events import HubEvent, HubEventType
from hub.presence.config import PresenceConfig
from hub.presence.tracker import PresenceTracker
from hub.registry import GatewayRegistry, Registered
from streetwatch.kinds import KindName
from streetwatch.location import Area
from streetwatch.messages import GatewayState, SensorInfo

EXAMPLES = Path(__file__).resolve().parents[4] / "examples"
HEALTH_S = 10
S = 1000  # one second in ms


def city() -> CityConfig:
    return example_city()


def sensor(sensor_id: str, offline_after_s: float = 120) -> SensorInfo:
    return SensorInfo(
        id=sensor_id, kind=KindName.SMOKE, report_interval_s=60, offline_after_s=offline_after_s
    )


def birth(
    gateway: str,
    community: str,
    *,
    street: str = "huamu",
    boot: str = "b0000001",
    sensors: tuple[SensorInfo, ...] = (),
    online: bool = True,
) -> GatewayState:
    return GatewayState(
        gateway=gateway,
        area=Area(district="pudong", street=street, community=community),
        online=online,
        boot=boot,
        t=0,
        sensors=sensors,
        health_interval_s=HEALTH_S,
    )


class World:
    def __init__(self, config: PresenceConfig | None = None) -> None:
        self.config = config or PresenceConfig()
        self.registry = GatewayRegistry(city(), None).open()
        self.events: list[HubEvent] = []
        self.tracker = PresenceTracker(self.config, self.registry, emit=self.events.append)
        self.now = 0
        self._taken = 0

    def add(
        self,
        gateway: str,
        community: str,
        *,
        street: str = "huamu",
        boot: str = "b0000001",
        sensors: tuple[SensorInfo, ...] = (),
    ) -> None:
        """Register a gateway and give its birth to the tracker, at the current time."""
        state = birth(gateway, community, street=street, boot=boot, sensors=sensors)
        result = self.registry.register("pudong", street, gateway, state, self.now)
        assert isinstance(result, Registered), result
        self.tracker.birth(gateway, boot, self.now)

    def kill(self, *gateways: str) -> None:
        """Deaths (MQTT wills) of the gateways' registered boots, now."""
        for gateway in gateways:
            record = self.registry.get(gateway)
            assert record is not None
            self.tracker.death(gateway, record.boot, self.now)

    def run(
        self,
        seconds: float,
        *,
        heard: tuple[str, ...] = (),
        seen: tuple[tuple[str, str], ...] | None = None,
        step_s: float = 5,
    ) -> None:
        """Advance time, ticking every ``step_s``. Before each tick the ``heard`` gateways send
        health, and the ``seen`` sensors (by default every sensor of the heard gateways) report.
        """
        end = self.now + round(seconds * S)
        while self.now < end:
            self.now = min(end, self.now + round(step_s * S))
            for gateway in heard:
                self.tracker.heard(gateway, self.now)
            for gateway, sensor_id in self._seen(heard) if seen is None else seen:
                self.tracker.sensor_seen(gateway, sensor_id, self.now)
            self.tracker.tick(self.now)

    def _seen(self, heard: tuple[str, ...]) -> list[tuple[str, str]]:
        pairs = []
        for gateway in heard:
            record = self.registry.get(gateway)
            assert record is not None
            pairs += [(gateway, sensor_id) for sensor_id in record.sensors]
        return pairs

    def take(self) -> list[HubEvent]:
        """Events raised since the last ``take``."""
        new = self.events[self._taken :]
        self._taken = len(self.events)
        return new

    def types(self) -> list[tuple[HubEventType, str | None]]:
        return [(e.type, e.gateway) for e in self.take()]

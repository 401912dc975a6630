"""A fleet of virtual gateways speaking the gateway protocol to a real broker, for hub tests.

Each ``VirtualGateway`` numbers its messages per boot and channel exactly as the edge agent does,
keeps every message until the hub confirms its sequence number, and sends again what the hub
asks for (``Resend``). Readings are deterministic: ``expected_readings()`` says exactly which
points must end up in the store. It is a protocol peer, like ``hub_peer.HubPeer`` on the other
side; the real edge agent is exercised end to end in its own test.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass, field

import aiomqtt

from streetwatch.anomalies import AnomalyType
from streetwatch.codec import decode_channel, encode
from streetwatch.levels import Level
from streetwatch.location import Area, Placement, RiskPoint
from streetwatch.messages import (
    AnomalyEvent,
    Confirm,
    EventState,
    GatewayHealth,
    GatewayState,
    LostRange,
    Reading,
    Resend,
    SensorInfo,
    TelemetryBatch,
)
from streetwatch.topics import Channel, GatewayTopic, Scope, TopicTree


@dataclass
class VirtualGateway:
    gateway: str
    area: Area
    sensors: int = 3
    health_interval_s: float = 60
    boot: str = field(default_factory=lambda: secrets.token_hex(8))
    next_seq: dict[str, int] = field(default_factory=dict)
    unconfirmed: dict[tuple[str, str, int], bytes] = field(default_factory=dict)
    confirmed: set[tuple[str, str, int]] = field(default_factory=set)
    readings: list[tuple[str, int, float]] = field(default_factory=list)
    archive: dict[tuple[str, str, int], bytes] = field(default_factory=dict)
    kind: str = "water_level"  # telemetry() only for water_level; events for any kind
    building: str | None = None  # all sensors in this building (else b0, b1, ...)

    def sensor_ids(self) -> list[str]:
        short = "wl" if self.kind == "water_level" else self.kind
        return [f"{self.gateway}-{short}{i}" for i in range(self.sensors)]

    def birth(self, t: int, online: bool = True) -> GatewayState:
        return GatewayState(
            gateway=self.gateway,
            area=self.area,
            online=online,
            boot=self.boot,
            t=t,
            software="fleet-1",
            health_interval_s=self.health_interval_s,
            sensors=tuple(
                SensorInfo(
                    id=s,
                    kind=self.kind,
                    placement=Placement(
                        building=self.building or f"b{i}",
                        floor=3,
                        risk_point=RiskPoint.UNDERPASS
                        if self.kind == "water_level"
                        else RiskPoint.OLD_BUILDING,
                    ),
                    report_interval_s=60,
                    offline_after_s=300,
                )
                for i, s in enumerate(self.sensor_ids())
            ),
        )

    def _seq(self, channel: str) -> int:
        seq = self.next_seq.get(channel, 0)
        self.next_seq[channel] = seq + 1
        return seq

    def telemetry(self, t: int) -> TelemetryBatch:
        seq = self._seq("data")
        readings = []
        for i, sensor in enumerate(self.sensor_ids()):
            depth = round(0.01 * ((seq * 7 + i) % 50), 3)
            readings.append(
                Reading(sensor=sensor, kind="water_level", t=t, values={"depth": depth})
            )
            self.readings.append((sensor, t, depth))
        return TelemetryBatch(
            gateway=self.gateway, boot=self.boot, seq=seq, sent=t, readings=tuple(readings)
        )

    def event(
        self,
        t: int,
        level: Level = Level.ORANGE,
        *,
        sensor: int = 0,
        state: EventState = EventState.RAISED,
    ) -> AnomalyEvent:
        """A threshold event of a water gauge, or the alarm flag of any other kind."""
        seq = self._seq("event")
        water = self.kind == "water_level"
        return AnomalyEvent(
            id=f"{self.gateway}-{self.boot}-{seq}",
            gateway=self.gateway,
            boot=self.boot,
            seq=seq,
            sensor=self.sensor_ids()[sensor],
            kind=self.kind,
            type=AnomalyType.THRESHOLD if water else AnomalyType.ALARM_FLAG,
            level=level,
            state=state,
            t=t,
            metric="depth" if water else self.kind,
            value=0.3 if water else state is EventState.RAISED,
            threshold=0.25 if water else None,
        )

    def health(self, t: int, lost: tuple[LostRange, ...] = ()) -> GatewayHealth:
        return GatewayHealth(
            gateway=self.gateway,
            boot=self.boot,
            seq=self._seq("health"),
            t=t,
            uptime_s=1.0,
            lost=lost,
            last_seen=dict.fromkeys(self.sensor_ids(), t),
        )

    def expected_readings(self) -> set[tuple[str, int, float]]:
        return set(self.readings)


class Fleet:
    """Publishes for its gateways over one MQTT connection and answers the hub's commands."""

    def __init__(
        self,
        host: str,
        port: int,
        prefix: str,
        gateways: list[VirtualGateway],
        *,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        # How long a publish waits for the broker's PUBACK (None: aiomqtt's 10 s). A publish in
        # flight when the broker goes away waits this long before it fails.
        self.timeout_s = timeout_s
        self.tree = TopicTree(prefix)
        self.gateways = {g.gateway: g for g in gateways}
        self.commands: list[tuple[str, Confirm | Resend]] = []
        self.changed = asyncio.Event()
        self.drop_next_publish: set[tuple[str, str, int]] = set()
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Fleet:
        self._client = aiomqtt.Client(
            self.host,
            self.port,
            identifier=f"fleet-{secrets.token_hex(4)}",
            username=self.username,
            password=self.password,
            timeout=self.timeout_s,
        )
        await self._client.__aenter__()
        await self._client.subscribe(self.tree.filter(Scope(), Channel.CMD) + "/#", qos=1)
        self._task = asyncio.create_task(self._listen())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            # The listener ends with MqttError if the broker went away (a broker restart).
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await self._task
        if self._client is not None:
            await self._client.__aexit__(None, None, None)

    def topic(self, g: VirtualGateway, channel: Channel) -> str:
        return self.tree.gateway(g.area.district, g.area.street, g.gateway, channel)

    async def publish_raw(self, topic: str, payload: bytes, retain: bool = False) -> None:
        assert self._client is not None
        await self._client.publish(topic, payload, qos=1, retain=retain)

    async def send(self, g: VirtualGateway, message: object) -> None:
        """Publish ``message`` on its channel; sequenced ones are kept until confirmed."""
        channel = Channel(getattr(message, "msg", "state").replace("telemetry", "data"))
        payload = encode(message)  # type: ignore[arg-type]
        retain = channel is Channel.STATE
        seq = getattr(message, "seq", None)
        if seq is not None:
            key = (g.boot, channel.value, seq)
            g.unconfirmed[key] = payload
            g.archive[key] = payload
            if key in self.drop_next_publish:  # simulate a message lost on the way
                self.drop_next_publish.discard(key)
                return
        await self.publish_raw(self.topic(g, channel), payload, retain)

    async def republish(self, g: VirtualGateway, channel: Channel, seq: int) -> None:
        """Send an already sent message again, byte for byte (a duplicate delivery)."""
        await self.publish_raw(self.topic(g, channel), g.archive[(g.boot, channel.value, seq)])

    async def resend_unconfirmed(self) -> int:
        """What the edge does after ``resend_after_s``: send again all that is unconfirmed."""
        n = 0
        for g in self.gateways.values():
            for (_, channel, _), payload in list(g.unconfirmed.items()):
                await self.publish_raw(self.topic(g, Channel(channel)), payload)
                n += 1
        return n

    def all_confirmed(self, channels: tuple[str, ...] = ("data", "event")) -> bool:
        return all(
            not [k for k in g.unconfirmed if k[1] in channels] for g in self.gateways.values()
        )

    async def _listen(self) -> None:
        assert self._client is not None
        async for message in self._client.messages:
            parsed = self.tree.parse(str(message.topic))
            assert isinstance(parsed, GatewayTopic)
            command = decode_channel(bytes(message.payload), Channel.CMD)
            g = self.gateways.get(parsed.gateway)
            if g is None or not isinstance(command, Confirm):
                continue
            self.commands.append((parsed.gateway, command))
            for first, last in command.ranges:
                for seq in range(first, last + 1):
                    key = (command.boot, command.channel, seq)
                    if isinstance(command, Resend):
                        if key in g.unconfirmed:
                            await self.publish_raw(
                                self.topic(g, Channel(command.channel)), g.unconfirmed[key]
                            )
                    else:
                        g.unconfirmed.pop(key, None)
                        g.confirmed.add(key)
            self.changed.set()

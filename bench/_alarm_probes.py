"""The benchmark's ends of the alarm path: a device, a tap on the uplink broker, the receiver.

* ``Device`` publishes as a Zigbee2MQTT bridge does, with the simulator's own encoder
  (simulators/devices), on the gateway's field broker.
* ``Probes.tap`` watches the uplink broker for the edge agent's events: when an alarm left the
  gateway, which splits each latency into the edge's part and the hub's part.
* ``Probes.on_page`` is the webhook receiver's responder (tests/support/http_receiver.py): it
  stamps each page the moment its body has arrived.

Every stamp here is ``time.time()`` in this one process, so both ends read the same clock; the
page itself carries two of the hub's stamps, on the same machine clock in whole milliseconds:
``incident.updated_at`` (when the incident engine took the event) and ``sent_at`` (when the
webhook sender built the request). Together they split the hub's part into its intake, its
engine and escalator, and the HTTP request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiomqtt
from _alarm_stack import AlarmSensor
from _support import Recorded, Reply

import simulators.devices  # noqa: F401 (registers the ecosystems' encoders)
from simulators.devices.personality import DeviceSpec, Sample, payloads
from streetwatch.codec import DecodeError, decode_channel
from streetwatch.kinds import Ecosystem, KindName
from streetwatch.messages import AnomalyEvent, EventState
from streetwatch.topics import Channel, Scope, TopicTree

Values = Mapping[str, float | bool]


@dataclass
class Alarm:
    """One measured alarm; times are Unix seconds."""

    sensor: str
    published: float = 0.0  # the device sample that starts the alarm
    crossing: float = 0.0  # the sample the edge raises on (later only under a debounce)
    event: float | None = None  # the raised event seen on the uplink broker
    engine: float | None = None  # the hub's incident engine took it (ms resolution)
    sent: float | None = None  # the hub's webhook sender built the request (ms resolution)
    page: float | None = None  # the page's arrival at the receiver
    incident: str | None = None
    event_id: str | None = None
    paged: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def total_ms(self) -> float:
        assert self.page is not None
        return (self.page - self.published) * 1000

    @property
    def processing_ms(self) -> float:
        """From the sample the edge raises on: the path's own work, no debounce."""
        assert self.page is not None
        return (self.page - self.crossing) * 1000

    @property
    def edge_ms(self) -> float | None:
        return None if self.event is None else (self.event - self.crossing) * 1000

    @property
    def hub_ms(self) -> float | None:
        return _between(self.event, self.page)

    def record(self, level: str, kind: str) -> dict[str, object]:
        """The raw stamps (Unix s) and the event's id, for ``--dump``."""
        stamps = ("published", "crossing", "event", "engine", "sent", "page")
        return {
            "level": level,
            "kind": kind,
            "sensor": self.sensor,
            "incident": self.incident,
            "event_id": self.event_id,
            **{k: getattr(self, k) for k in stamps},
        }

    def stages_ms(self) -> dict[str, float | None]:
        """The path in parts: edge, hub intake, incident engine and escalator, HTTP."""
        return {
            "edge": self.edge_ms,
            "hub intake": _between(self.event, self.engine),
            "engine+escalator": _between(self.engine, self.sent),
            "webhook HTTP": _between(self.sent, self.page),
        }


def _between(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else (end - start) * 1000


class Device:
    """Every alarm sensor's device, publishing on the field broker as Zigbee2MQTT does."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client

    async def publish(self, sensor: AlarmSensor, values: Values) -> float:
        """Publish one sample; returns the time just before it was sent."""
        spec = DeviceSpec(Ecosystem.ZIGBEE2MQTT, sensor.device, KindName(sensor.kind))
        sample = Sample(sensor.id, KindName(sensor.kind), int(time.time() * 1000), values)
        (message,) = payloads(sample, spec)
        started = time.time()
        await self.client.publish(message.topic, message.payload, qos=1)
        return started


class Probes:
    def __init__(self) -> None:
        self.pending: dict[str, Alarm] = {}
        self.cleared: dict[str, asyncio.Event] = {}
        self.other_pages = 0

    def expect(self, sensor: str) -> Alarm:
        alarm = self.pending[sensor] = Alarm(sensor)
        return alarm

    def done(self, alarm: Alarm) -> None:
        self.pending.pop(alarm.sensor, None)

    def expect_clear(self, sensor: str) -> asyncio.Event:
        event = self.cleared[sensor] = asyncio.Event()
        return event

    def on_page(self, request: Recorded) -> Reply:
        arrived = time.time()
        body = request.json()
        incident = body["incident"]
        alarm = self.pending.get(incident.get("sensor"))
        if alarm is None or alarm.page is not None or incident["level"] != "orange":
            self.other_pages += 1
            return Reply()
        alarm.page, alarm.incident = arrived, incident["id"]
        alarm.engine, alarm.sent = incident["updated_at"] / 1000, body["sent_at"] / 1000
        alarm.paged.set()
        return Reply()

    async def tap(self, client: aiomqtt.Client) -> None:
        """Stamp the edge's events on the uplink broker (run as a task)."""
        await client.subscribe(TopicTree("").filter(Scope(), Channel.EVENT), qos=1)
        async for message in client.messages:
            seen = time.time()
            payload = message.payload if isinstance(message.payload, bytes) else b""
            try:
                event = decode_channel(payload, Channel.EVENT)
            except DecodeError:
                continue
            if not isinstance(event, AnomalyEvent):
                continue
            if event.state is EventState.CLEARED:
                done = self.cleared.pop(event.sensor, None)
                if done is not None:
                    done.set()
                continue
            alarm = self.pending.get(event.sensor)
            if alarm is not None and alarm.event is None and event.level.value == "orange":
                alarm.event, alarm.event_id = seen, event.id

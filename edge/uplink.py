"""The uplink to the hub: birth and death, confirmed delivery from the outbox, hub commands.

A record leaves the outbox only when the hub confirms it stored its sequence number (a
``Confirm`` command on this gateway's cmd topic). A broker's PUBACK only says the broker took
it, and a broker drops messages for a subscriber that falls behind; so what stays unconfirmed
for ``resend_after_s`` is sent again, and what the hub asks for after a gap (``Resend``) too.

After an outage the backlog goes out at ``replay_rate`` messages/s, marked ``replayed``, with
its original timestamps, in sends of at most ``OTHER_BATCH`` records and ``OTHER_BATCH_BYTES``.
Events are taken before anything else and are never rate-limited, so a live alarm never waits
behind more history than one such send.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

import aiomqtt

from edge.config import GatewayIdentity, UplinkConfig
from edge.mqtt import make_client
from edge.outbox import Lane, Outbox, OutboxRecord
from edge.replay import mark_replayed
from streetwatch.backoff import Backoff
from streetwatch.clock import Clock, now_ms, wait_event
from streetwatch.codec import DecodeError, decode_channel, encode
from streetwatch.component import Component
from streetwatch.counters import Counters
from streetwatch.messages import Command, Confirm, GatewayState, Resend
from streetwatch.topics import Channel, GatewayTopic, TopicError, TopicTree

log = logging.getLogger(__name__)

EVENT_BATCH = 64
OTHER_BATCH = 50
OTHER_BATCH_BYTES = 256 * 1024
"""At most this much payload per send of state and telemetry: what is sent in one go reaches the
hub ahead of any alarm raised meanwhile, and an alert-mode batch (every sample) is about 40 KB,
so 50 of them would put 2 MB in front of it."""
IDLE_POLL_S = 1.0


class Uplink(Component):
    def __init__(
        self,
        config: UplinkConfig,
        identity: GatewayIdentity,
        outbox: Outbox,
        *,
        boot: str,
        birth: Callable[[bool], GatewayState],
        on_command: Callable[[Command], Awaitable[None]],
        clock: Clock,
        counters: Counters,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.identity = identity
        self.outbox = outbox
        self._birth = birth
        self._on_command = on_command
        self.clock = clock
        self.counters = counters
        self.topics = TopicTree(config.topic_prefix)
        self._backoff = Backoff(config.reconnect_min_s, config.reconnect_max_s, rng)
        self._wake = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self.connected = asyncio.Event()
        self.connected_since_ms: int | None = None
        self.reconnects = 0
        self.last_error: str | None = None
        self.on_connection_change: Callable[[bool], None] | None = None
        self._confirmed: dict[str, list[tuple[int, int]]] = {}  # this boot's, per channel
        self.boot = boot

    def was_confirmed(self, channel: Channel, seq: int) -> bool:
        """Whether the hub confirmed storing ``seq`` of this boot on ``channel`` (recent ones)."""
        return any(lo <= seq <= hi for lo, hi in self._confirmed.get(channel.value, []))

    # -- public ---------------------------------------------------------------------------

    def kick(self) -> None:
        """New records are in the outbox: send without waiting for the next poll."""
        self._wake.set()

    async def publish_now(self, channel: Channel, payload: bytes, *, retain: bool = False) -> bool:
        """Publish outside the outbox (births); False when not connected."""
        client = self._client
        if client is None or not self.connected.is_set():
            return False
        try:
            await client.publish(self._topic(channel), payload, qos=1, retain=retain)
        except aiomqtt.MqttError:
            return False
        return True

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self.spawn(self._connection_loop(), "connection")

    async def stop(self) -> None:
        # A clean goodbye: the will is only sent by the broker on an unexpected disconnect.
        await self.publish_now(Channel.STATE, encode(self._birth(False)), retain=True)

    def _topic(self, channel: Channel) -> str:
        area = self.identity.area
        return self.topics.gateway(area.district, area.street, self.identity.id, channel)

    def _set_connected(self, up: bool) -> None:
        if up:
            self.connected.set()
        else:
            self.connected.clear()
        if self.on_connection_change is not None:
            self.on_connection_change(up)

    async def _connection_loop(self) -> None:
        will = aiomqtt.Will(
            self._topic(Channel.STATE), encode(self._birth(False)), qos=1, retain=True
        )
        while True:
            client = make_client(
                self.config, identifier=f"sw-edge-{self.identity.id}", will=will, persistent=True
            )
            try:
                async with client:
                    await self._session(client)
            except* aiomqtt.MqttError as group:
                self.last_error = str(group.exceptions[0])
                log.warning("uplink lost: %s", self.last_error)
            finally:
                self._client = None
                if self.connected.is_set():
                    self._set_connected(False)
            self.reconnects += 1
            await self.clock.sleep(self._backoff.next_delay())

    async def _session(self, client: aiomqtt.Client) -> None:
        area = self.identity.area
        commands = self.topics.gateway_commands(area.district, area.street, self.identity.id)
        await client.subscribe(commands, qos=1)
        await client.publish(
            self._topic(Channel.STATE), encode(self._birth(True)), qos=1, retain=True
        )
        self._client = client
        self.connected_since_ms = now_ms(self.clock)
        self._backoff.reset()
        self.last_error = None
        self._set_connected(True)
        log.info("uplink connected to %s:%s", self.config.host, self.config.port)
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._receive(client), name="uplink.receive")
            tg.create_task(self._send(client), name="uplink.send")

    # -- sending --------------------------------------------------------------------------

    async def _take(self, *, events_only: bool) -> list[OutboxRecord]:
        now = now_ms(self.clock)
        resend = int(self.config.resend_after_s * 1000)
        events = await self.outbox.take(
            EVENT_BATCH, now_ms=now, resend_after_ms=resend, lanes=(Lane.EVENT,)
        )
        if events or events_only:
            return events
        return await self.outbox.take(
            OTHER_BATCH,
            now_ms=now,
            resend_after_ms=resend,
            lanes=(Lane.STATE, Lane.TELEMETRY),
            max_bytes=OTHER_BATCH_BYTES,
        )

    async def _send(self, client: aiomqtt.Client) -> None:
        paused_until = 0.0  # monotonic: history replays at replay_rate; events never wait for it
        while True:
            self._wake.clear()
            pause = paused_until - self.clock.monotonic()
            records = await self._take(events_only=pause > 0)
            if not records:
                await wait_event(self.clock, self._wake, pause if pause > 0 else IDLE_POLL_S)
                continue
            await self._publish(client, records)
            since = self.connected_since_ms or 0
            backlog = sum(1 for r in records if r.lane is not Lane.EVENT and r.created_ms < since)
            if backlog:
                paused_until = self.clock.monotonic() + backlog / self.config.replay_rate

    async def _publish(self, client: aiomqtt.Client, records: list[OutboxRecord]) -> None:
        since = self.connected_since_ms or 0

        async def one(record: OutboxRecord) -> None:
            channel = Channel(record.channel)
            payload = record.payload
            if record.attempts > 1 or record.created_ms < since:
                payload = mark_replayed(channel, payload)
                self.counters.add("sent", "replayed")
            await client.publish(self._topic(channel), payload, qos=1)
            self.counters.add("sent", record.channel)

        results = await asyncio.gather(*(one(r) for r in records), return_exceptions=True)
        failed = [r.id for r, res in zip(records, results, strict=True) if res is not None]
        if failed:
            await self.outbox.release(failed)
            first = next(res for res in results if isinstance(res, BaseException))
            if isinstance(first, aiomqtt.MqttError):
                raise first
            raise aiomqtt.MqttError(f"publish failed: {first!r}")

    # -- receiving ------------------------------------------------------------------------

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            try:
                topic = self.topics.parse(str(message.topic))
                if not isinstance(topic, GatewayTopic) or topic.gateway != self.identity.id:
                    raise TopicError("not a command for this gateway")
                raw = message.payload
                payload = raw if isinstance(raw, bytes | bytearray) else b""
                command = decode_channel(payload, Channel.CMD)
                if command.command != topic.command:
                    raise TopicError(f"topic says {topic.command}, payload says {command.command}")
            except (TopicError, DecodeError) as exc:
                reason = exc.reason if isinstance(exc, DecodeError) else "bad_command_topic"
                self.counters.add("rejected_command", str(reason))
                log.warning("command refused on %s: %s", message.topic, exc)
                continue
            await self._handle(command)

    async def _handle(self, command: Command) -> None:
        if isinstance(command, Resend):
            n = await self.outbox.requeue(command.boot, command.channel, command.ranges)
            self.counters.add("resend_requested", command.channel, n)
            self.kick()
        elif isinstance(command, Confirm):
            n = await self.outbox.confirm(command.boot, command.channel, command.ranges)
            # A confirm also covers ranges the gateway reported lost: the hub has taken note.
            await self.outbox.forget_evicted(command.boot, command.channel, command.ranges)
            self.counters.add("confirmed", command.channel, n)
            if command.boot == self.boot:
                seen = self._confirmed.setdefault(command.channel, [])
                seen.extend(command.ranges)
                del seen[:-1000]
        else:
            await self._on_command(command)

"""The hub-side fault cases' harness: a street under a steady load, and one accounting.

``HubRig`` runs a street's hub side, every piece real and on 127.0.0.1: its own Mosquitto (a case
may restart it), its own InfluxDB 1.x as the hub's storage (a case may stop it), a webhook
receiver standing in for the responders' phones, and ``streetwatch hub run`` as a process
(``hub_process`` of tests/integration/hub/test_hub_process.py), watched through its Prometheus
endpoint. ``Load`` is the gateways (tests/support/fleet.py): four water-level gateways report
every round; a smoke gateway's two detectors in building b1 raise a red fire, which the grid
worker answers with the one-tap link of his page before the fault, and one of them then clears
and raises again every few rounds. After the fault a smoke detector in building b2 raises an
alarm: its page proves that paging still works. ``HubRig.run`` plays that around a case's fault
and ends with ``Accounting``: what the gateways published against what the database, the
incident store and the responders' webhook got, printed as a table when anything is off.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt
import httpx
import yaml
from integration.hub.conftest import HUAMU, fleet_of, hub_config_data, make_hub_config
from integration.hub.stored import backend_extra, stored_readings
from integration.hub.test_hub_process import hub_process
from prometheus_client.parser import text_string_to_metric_families
from support.fleet import Fleet, VirtualGateway
from support.http_receiver import HttpReceiver
from support.services import (
    InfluxDBService,
    MosquittoService,
    free_port,
    start_influxdb,
    start_mosquitto,
    tcp_open,
)
from support.waiting import eventually

from hub.incidents.grouping import GroupKey
from hub.incidents.model import Incident
from hub.incidents.store import IncidentStore
from streetwatch.anomalies import Hazard
from streetwatch.levels import Level
from streetwatch.messages import AnomalyEvent, EventState, TelemetryBatch
from streetwatch.topics import Channel

from .security_hub import GRID_WORKER, notify_section

__all__ = ["SECRETS", "Accounting", "HubRig", "Load"]

# What the hub process reads from its environment (never from hub.yaml).
SECRETS = {
    "STREETWATCH_HUB_NOTIFY__CHANNELS__HOOK__SECRET": "w" * 32,
    "STREETWATCH_HUB_API__LINK_SECRET": "L" * 40,
}
ROUND_S = 0.04  # one telemetry batch per water gateway per round: 100 messages a second
EVENT_EVERY = 5  # rounds between two events of the b1 detector (cleared, raised, cleared...)
REVERSED_BLOCK = 5  # rounds published newest first, then all again, in the duplicating load
ROUNDS_AROUND_FAULT = 25  # the stream runs at least this many rounds before and after a fault
PUBLISH_TIMEOUT_S = 1.0  # a publish in flight when the broker goes away fails after this
PAGED_WITHIN_S = 5.0  # an alarm raised after the fault is paged this fast (normally 0.1 s)
B1 = GroupKey("pudong", "huamu", Hazard.FIRE, "lianyang", "b1").text
B2 = GroupKey("pudong", "huamu", Hazard.FIRE, "lianyang", "b2").text

MessageKey = tuple[str, str, int]  # (boot, channel, seq): one message of one gateway
ReadingKey = tuple[str, int, float]  # (sensor, t, depth)


class Load:
    """The gateways, their stream and what the broker took of it.

    A message the broker did not acknowledge stays in its gateway's outbox (``unconfirmed``, as
    every message does until the hub confirms it) and is sent again once the broker is back, as
    an edge agent does after a reconnection.
    """

    def __init__(self, broker: MosquittoService, prefix: str, *, twice_reversed: bool) -> None:
        self.broker, self.prefix = broker, prefix
        self.twice_reversed = twice_reversed  # every block newest first, then all once more
        self.water = fleet_of(4, prefix, sensors=3)
        area = HUAMU[0]  # Lianyang: 王网格 is its grid worker
        self.fire = VirtualGateway(f"{prefix}-fire", area, 2, kind="smoke", building="b1")
        self.control = VirtualGateway(f"{prefix}-control", area, 1, kind="smoke", building="b2")
        self.gateways = [*self.water, self.fire, self.control]
        self.readings: dict[MessageKey, list[ReadingKey]] = {}
        self.events: dict[MessageKey, AnomalyEvent] = {}
        self.acked: set[MessageKey] = set()  # the broker acknowledged it (at least once)
        self.rounds = 0
        self.reconnects = 0
        self.t0 = int(time.time() * 1000) - 600_000  # sample times: one second per round
        self._fleet: Fleet | None = None
        self._up = False
        self._block: list[tuple[VirtualGateway, TelemetryBatch | AnomalyEvent]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Load:
        await self._connect()
        assert self._up, f"no connection to {self.broker.url}"
        for g in self.gateways:
            await self._current.send(g, g.birth(self.t0))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._fleet is not None:
            await self._fleet.__aexit__(None, None, None)

    @property
    def _current(self) -> Fleet:
        assert self._fleet is not None
        return self._fleet

    # -- what the gateways say ---------------------------------------------------------------

    def event(self, g: VirtualGateway, t: int, state: EventState, sensor: int = 0) -> AnomalyEvent:
        event = g.event(t, Level.ORANGE, sensor=sensor, state=state)
        self.events[(g.boot, Channel.EVENT.value, event.seq)] = event
        return event

    def _telemetry(self, g: VirtualGateway, t: int) -> TelemetryBatch:
        batch = g.telemetry(t)
        key = (g.boot, Channel.DATA.value, batch.seq)
        self.readings[key] = [(r.sensor, r.t, r.values["depth"]) for r in batch.readings]
        return batch

    def confirmed(self) -> set[MessageKey]:
        return {key for g in self.gateways for key in g.confirmed}

    # -- over the broker ---------------------------------------------------------------------

    async def send(self, g: VirtualGateway, message: TelemetryBatch | AnomalyEvent) -> None:
        """Publish; kept in the outbox until confirmed, counted once the broker has it."""
        if not self._up:
            await self._connect()
        channel = Channel.DATA if isinstance(message, TelemetryBatch) else Channel.EVENT
        try:
            await self._current.send(g, message)
        except aiomqtt.MqttError:
            self._up = False
        else:
            self.acked.add((g.boot, channel.value, message.seq))

    async def send_again(self, g: VirtualGateway) -> None:
        """Everything ``g`` sent so far, once more and newest first, byte for byte."""
        for boot, channel, seq in sorted(g.archive, key=lambda k: k[2], reverse=True):
            if boot == g.boot:
                await self._current.republish(g, Channel(channel), seq)

    async def _connect(self) -> None:
        """A new connection if the broker listens; then the outbox goes again."""
        if not tcp_open(self.broker.port):
            return
        fresh = Fleet(
            self.broker.host,
            self.broker.port,
            self.prefix,
            self.gateways,
            timeout_s=PUBLISH_TIMEOUT_S,
        )
        try:
            await fresh.__aenter__()
        except aiomqtt.MqttError:
            return
        if self._fleet is not None:
            await self._fleet.__aexit__(None, None, None)
            self.reconnects += 1
        self._fleet, self._up = fresh, True
        await self._resend_outbox()

    async def _resend_outbox(self) -> None:
        for g in self.gateways:
            for key, payload in list(g.unconfirmed.items()):
                try:
                    await self._current.publish_raw(
                        self._current.topic(g, Channel(key[1])), payload
                    )
                except aiomqtt.MqttError:
                    self._up = False
                    return
                self.acked.add(key)

    async def settle(self, tries: int = 6) -> None:
        """Send the outbox again (an edge agent does every ``resend_after_s``) until the hub
        has confirmed every message."""
        for _ in range(tries):
            await (self._resend_outbox() if self._up else self._connect())
            with contextlib.suppress(AssertionError):
                await eventually(self._current.all_confirmed, within_s=5, what="confirms")
                return
        left = sum(len(g.unconfirmed) for g in self.gateways)
        raise AssertionError(f"{left} messages still unconfirmed after {tries} resends")

    # -- the stream --------------------------------------------------------------------------

    @asynccontextmanager
    async def streaming(self) -> AsyncIterator[None]:
        stop = asyncio.Event()
        self._task = asyncio.create_task(self._stream(stop), name="load")
        try:
            yield
        finally:
            stop.set()
            await self._task

    async def progress(self, rounds: int, what: str) -> None:
        """Wait until the stream has run ``rounds`` more rounds."""
        task, target = self._task, self.rounds + rounds
        assert task is not None, "use `async with load.streaming()`"
        await eventually(lambda: self.rounds >= target or task.done(), what=what)
        if task.done():
            task.result()  # the stream's own error, if it failed
            raise AssertionError(f"the stream stopped before {what}")

    async def _stream(self, stop: asyncio.Event) -> None:
        step = 0
        while not stop.is_set():
            t = self.t0 + (step + 1) * 1000
            out: list[tuple[VirtualGateway, TelemetryBatch | AnomalyEvent]] = [
                (g, self._telemetry(g, t)) for g in self.water
            ]
            if step % EVENT_EVERY == EVENT_EVERY - 1:  # b1's first detector: cleared, raised...
                raised = (step // EVENT_EVERY) % 2 == 1
                state = EventState.RAISED if raised else EventState.CLEARED
                out.append((self.fire, self.event(self.fire, t + 500, state)))
            await self._deliver(out, last=False)
            step += 1
            self.rounds = step
            await asyncio.sleep(ROUND_S)
        await self._deliver([], last=True)

    async def _deliver(
        self, out: list[tuple[VirtualGateway, TelemetryBatch | AnomalyEvent]], *, last: bool
    ) -> None:
        if not self.twice_reversed:
            for g, message in out:
                await self.send(g, message)
            return
        self._block += out
        if len(self._block) < REVERSED_BLOCK * len(self.water) and not last:
            return
        block, self._block = self._block, []
        for g, message in reversed(block):  # sequence numbers out of order
            await self.send(g, message)
        for g, message in block:  # and every message a second time
            channel = Channel.DATA if isinstance(message, TelemetryBatch) else Channel.EVENT
            await self._current.republish(g, channel, message.seq)


@dataclass(frozen=True)
class Tally:
    """One kind of item (readings, events): published, through the broker, confirmed, stored."""

    published: frozenset[object]
    acked: frozenset[object]
    confirmed: frozenset[object]
    stored: Counter[object]

    @property
    def lost(self) -> set[object]:
        """Acknowledged by the broker or confirmed by the hub, yet not in the database."""
        return set(self.acked | self.confirmed) - set(self.stored)

    @property
    def doubled(self) -> set[object]:
        return {item for item, n in self.stored.items() if n > 1}

    @property
    def unexpected(self) -> set[object]:
        return set(self.stored) - self.published

    def row(self, name: str) -> str:
        counts = [len(self.published), len(self.acked), len(self.confirmed), self.stored.total()]
        counts += [len(self.lost), len(self.doubled), len(self.unexpected)]
        return f"{name:<10}" + "".join(f"{n:>11}" for n in counts)


@dataclass(frozen=True)
class Page:
    index: int  # order of arrival at the webhook (an index of receiver.requests)
    incident: str
    responder: str
    level: str
    building: str | None
    delivery: str  # incident:responder:attempt; a retried request is the same page
    ack_url: str


def received_pages(receiver: HttpReceiver) -> list[Page]:
    pages = []
    for index, request in enumerate(receiver.requests):
        body = request.json()
        incident = body["incident"]
        pages.append(
            Page(
                index,
                incident["id"],
                body["recipient"]["id"],
                incident["level"],
                incident.get("building"),
                request.headers["x-streetwatch-delivery"],
                body["ack_url"],
            )
        )
    return pages


@dataclass(frozen=True)
class Accounting:
    readings: Tally
    events: Tally
    incidents: dict[str, list[Incident]]  # by grouping key (hazard and place)
    expected_keys: frozenset[str]
    pages: list[Page]
    fault_at: int  # pages that arrived before the fault
    answered: dict[str, tuple[str, int]]  # incident id: responder, pages before the answer
    control: str  # the incident raised after the fault
    control_paged_s: float  # how long its page took
    latest_events: dict[tuple[str, str], str]  # (gateway, sensor): the last event's id
    hub: dict[str, float] = field(default_factory=dict)  # metrics of its last run
    log: Path | None = None

    def _delivered(
        self, incident: str, responder: str, since: int, until: int | None = None
    ) -> int:
        """Pages (distinct deliveries) to ``responder`` for ``incident`` in [since, until)."""
        return len(
            {
                p.delivery
                for p in self.pages[since:until]
                if (p.incident, p.responder) == (incident, responder)
            }
        )

    def problems(self) -> list[str]:
        out = []
        for name, tally in (("readings", self.readings), ("events", self.events)):
            for what in ("lost", "doubled", "unexpected"):
                items = sorted(getattr(tally, what), key=str)
                if items:
                    out.append(f"{name} {what}: {len(items)}, e.g. {items[:3]}")
        for key, incidents in self.incidents.items():
            if len(incidents) > 1:
                out.append(f"{key} opened {len(incidents)} incidents: {[i.id for i in incidents]}")
        for key in sorted(self.expected_keys - set(self.incidents)):
            out.append(f"no incident for {key}")
        for key in sorted(set(self.incidents) - self.expected_keys):
            out.append(f"an incident nobody raised: {key}")
        by_id = {i.id: i for group in self.incidents.values() for i in group}
        for incident, (responder, answered_at) in self.answered.items():
            again = self._delivered(incident, responder, answered_at)
            if again:
                out.append(f"{responder} paged {again} time(s) for {incident} after answering")
            if getattr(by_id.get(incident), "acknowledged_by", None) != responder:
                out.append(f"{incident} is no longer acknowledged by {responder}")
        if self.control_paged_s > PAGED_WITHIN_S:
            out.append(
                f"{self.control}, raised after the fault, paged {self.control_paged_s:.1f} s late"
            )
        shown = {
            (s.gateway, s.sensor): s.event_id
            for group in self.incidents.values()
            for i in group
            for s in i.signals
        }
        for (gateway, sensor), event_id in self.latest_events.items():
            if shown.get((gateway, sensor)) != event_id:
                seen = shown.get((gateway, sensor))
                out.append(f"the incident of {sensor} shows event {seen}, the last was {event_id}")
        return out

    def table(self) -> str:
        head = ("published", "broker-ack", "confirmed", "stored", "lost", "doubled", "unexpected")
        lines = [" " * 10 + "".join(f"{h:>11}" for h in head)]
        lines += [self.readings.row("readings"), self.events.row("events")]
        lines.append("incidents per hazard and place:")
        for key, incidents in sorted(self.incidents.items()):
            states = ", ".join(
                f"{i.id} {i.level.value} {i.state.value}"
                + (f" by {i.acknowledged_by}" if i.acknowledged_by else "")
                for i in incidents
            )
            lines.append(f"  {key}: {len(incidents)} ({states})")
        lines.append(
            f"{self.control} raised after the fault: paged in {self.control_paged_s:.1f} s"
        )
        lines.append("pages per (incident, responder): before the fault / after the fault")
        for incident, responder in sorted({(p.incident, p.responder) for p in self.pages}):
            before = self._delivered(incident, responder, 0, self.fault_at)
            after = self._delivered(incident, responder, self.fault_at)
            answered = " (answered)" if incident in self.answered else ""
            lines.append(f"  {incident} {responder}: {before} / {after}{answered}")
        shown = {k: int(v) for k, v in sorted(self.hub.items()) if v and "_total" in k}
        lines.append(f"hub, since its last start: {shown}")
        if self.log is not None:
            lines.append(f"hub log: {self.log}")
        return "\n".join(lines)

    def check(self) -> None:
        problems = self.problems()
        print(self.table())  # pytest shows it with a failure (and with -s)
        assert not problems, "\n".join([*problems, "", self.table()])


Fault = Callable[["HubRig", Load], Awaitable[None]]


class HubRig:
    """Broker, database, webhook receiver and the hub process; see the module docstring.

    The hub reads SECRETS from the environment: set them before entering.
    """

    def __init__(self, base: Path, prefix: str) -> None:
        self.base, self.prefix = base, prefix
        self.api_port, self.metrics_port = free_port(), free_port()
        self.answered: dict[str, tuple[str, int]] = {}
        self.fault_at = 0
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> HubRig:
        try:
            await self._start(self._stack)
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def _start(self, stack: AsyncExitStack) -> None:
        self.broker = start_mosquitto(self.base / "mosquitto")
        stack.callback(self.broker.stop)
        self.influxdb: InfluxDBService = start_influxdb(self.base / "influxdb")
        stack.callback(self.influxdb.stop)
        self.receiver = await stack.enter_async_context(HttpReceiver())
        self.http = await stack.enter_async_context(httpx.AsyncClient(trust_env=False, timeout=10))
        self.state = self.base / "hub"
        config_file = self.base / "hub.yaml"
        config = hub_config_data(self.state, self.broker, self.prefix, self._extra())
        config_file.write_text(yaml.safe_dump(config, allow_unicode=True))
        self.log = self.base / "hub.log"
        self.hub = hub_process(config_file, self.log)
        stack.callback(self.hub.kill)
        await asyncio.to_thread(self.hub.start)
        await self.hub_connected()

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    def _extra(self) -> dict[str, object]:
        storage = backend_extra("influxdb_v1", self.prefix, self.influxdb, None)
        return {
            "storage": {**storage, "timeout_s": 2, "retry_min_s": 0.2, "retry_max_s": 1},
            "notify": notify_section(self.receiver.url("/page")),  # its secret: SECRETS
            "api": {
                "port": self.api_port,
                "base_url": f"http://127.0.0.1:{self.api_port}",
                "graceful_stop_s": 0,
            },
            "metrics": {"prometheus_port": self.metrics_port},
        }

    async def metrics(self) -> dict[str, float]:
        """The hub's Prometheus metrics (``name{label=value}``); empty while it is down."""
        try:
            response = await self.http.get(f"http://127.0.0.1:{self.metrics_port}/metrics")
        except httpx.HTTPError:
            return {}
        out = {}
        for family in text_string_to_metric_families(response.text):
            for s in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
        return out

    async def until(self, what: str, check: Callable[[dict[str, float]], bool]) -> None:
        """Wait until the hub's metrics satisfy ``check``."""

        async def holds() -> bool:
            found = await self.metrics()
            return bool(found) and check(found)

        await eventually(holds, what=what)

    async def hub_connected(self) -> None:
        await self.until(
            "the hub on the broker", lambda m: m.get("streetwatch_hub_mqtt_connected") == 1
        )

    # -- the story around every fault ----------------------------------------------------------

    async def run(self, fault: Fault, *, twice_reversed: bool = False) -> Accounting:
        async with Load(self.broker, self.prefix, twice_reversed=twice_reversed) as load:
            n = len(load.gateways)
            await self.until("the births", lambda m: m["streetwatch_hub_gateways_online"] == n)
            await self.answered_fire(load)
            async with load.streaming():
                await load.progress(ROUNDS_AROUND_FAULT, "the stream before the fault")
                await eventually(lambda: len(load.confirmed()) > 20, what="the hub at work")
                self.fault_at = len(self.receiver.requests)
                await fault(self, load)
                await load.progress(ROUNDS_AROUND_FAULT, "the stream after the fault")
            control = await self.control_alarm(load)
            await load.settle()
            return await self.account(load, *control)

    async def answered_fire(self, load: Load) -> str:
        """Both b1 detectors raise: a red fire. The grid worker taps the link of his red page."""
        for sensor in (0, 1):
            await load.send(load.fire, load.event(load.fire, load.t0, EventState.RAISED, sensor))
        page = await self.page(lambda p: p.building == "b1" and p.level == Level.RED.value)
        response = await self.http.post(page.ack_url)
        assert response.status_code == 200, response.text
        self.answered[page.incident] = (page.responder, len(self.receiver.requests))
        return page.incident

    async def control_alarm(self, load: Load) -> tuple[str, float]:
        """A detector in b2 raises an alarm after the fault: the incident paged, and how many
        seconds the page took."""
        t, sent = load.t0 + (load.rounds + 1) * 1000, time.monotonic()
        await load.send(load.control, load.event(load.control, t, EventState.RAISED))
        page = await self.page(lambda p: p.building == "b2")
        return page.incident, time.monotonic() - sent

    async def page(self, wanted: Callable[[Page], bool]) -> Page:
        def found() -> Page | None:
            return next((p for p in received_pages(self.receiver) if wanted(p)), None)

        await eventually(lambda: found() is not None, what="the page")
        page = found()
        assert page is not None
        assert page.responder == GRID_WORKER, page
        return page

    # -- counting ------------------------------------------------------------------------------

    async def account(self, load: Load, control: str, control_paged_s: float) -> Accounting:
        """Stop the hub once it has nothing in hand, and count."""
        await self.until(
            "the hub idle",
            lambda m: (
                m["streetwatch_hub_event_queue"] == 0
                and m["streetwatch_hub_spool_points"] == 0
                and m["streetwatch_hub_pending_points"] == 0
            ),
        )
        hub_metrics = await self.metrics()
        await asyncio.to_thread(self.hub.stop)
        config = make_hub_config(self.state, self.broker, self.prefix, self._extra())
        rows = await stored_readings(config, self.base, self.prefix, self.influxdb)
        event_rows = self.influxdb.query(
            config.storage.influxdb_v1.database,
            f'SELECT "id" FROM anomaly_event WHERE "gateway" =~ /^{self.prefix}-/',
        )
        async with IncidentStore(self.state / "incidents.sqlite3") as store:
            incidents = await store.recent(limit=10_000)
        by_key: dict[str, list[Incident]] = {}
        for incident in sorted(incidents, key=lambda i: i.opened_at):
            by_key.setdefault(incident.key, []).append(incident)
        confirmed = load.confirmed()
        latest: dict[tuple[str, str], AnomalyEvent] = {}
        for event in load.events.values():
            here = latest.get((event.gateway, event.sensor))
            if here is None or event.t > here.t:
                latest[(event.gateway, event.sensor)] = event
        return Accounting(
            readings=Tally(
                published=frozenset(r for rs in load.readings.values() for r in rs),
                acked=frozenset(r for k in load.acked for r in load.readings.get(k, ())),
                confirmed=frozenset(r for k in confirmed for r in load.readings.get(k, ())),
                stored=Counter((s.sensor, s.t, s.depth) for s in rows),
            ),
            events=Tally(
                published=frozenset(e.id for e in load.events.values()),
                acked=frozenset(load.events[k].id for k in load.acked if k in load.events),
                confirmed=frozenset(load.events[k].id for k in confirmed if k in load.events),
                stored=Counter(str(row["id"]) for row in event_rows),
            ),
            incidents=by_key,
            expected_keys=frozenset({B1, B2}),
            pages=received_pages(self.receiver),
            fault_at=self.fault_at,
            answered=dict(self.answered),
            control=control,
            control_paged_s=control_paged_s,
            latest_events={k: e.id for k, e in latest.items()},
            hub=hub_metrics,
            log=self.log,
        )

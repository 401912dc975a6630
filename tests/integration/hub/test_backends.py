"""Every storage backend against the real thing: SQLite, InfluxDB 1.x, VictoriaMetrics (v2 API).

Each test has its own database (InfluxDB), file (SQLite) or district and sensor ids (the shared
VictoriaMetrics), so runs never see each other's points.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr
from support.services import InfluxDBService, VictoriaMetricsService, start_victoriametrics

from hub.events import HubEvent, HubEventType
from hub.storage.base import (
    Backend,
    Point,
    QueryFilter,
    Row,
    StorageRejected,
    StorageUnavailable,
)
from hub.storage.config import InfluxV1Config, InfluxV2Config, StorageConfig
from hub.storage.hub_points import hub_event_points
from hub.storage.open import open_backend
from hub.storage.schema import Origin, event_points, health_points, state_points, telemetry_points
from streetwatch.anomalies import AnomalyType
from streetwatch.kinds import KindName
from streetwatch.levels import Level
from streetwatch.location import Area, Placement, RiskPoint
from streetwatch.messages import (
    AnomalyEvent,
    EventState,
    GatewayHealth,
    GatewayState,
    MetricStats,
    Quality,
    Reading,
    TelemetryBatch,
    WindowSummary,
)

BOOT = "0123abcd"


@dataclass
class Sample:
    run: str
    now: int
    points: list[Point]

    def sensor(self, name: str) -> str:
        return f"{name}-{self.run}"

    def query(self, **kwargs: object) -> QueryFilter:
        return QueryFilter(since_ms=self.now - 60_000, district=self.run, **kwargs)  # type: ignore[arg-type]


def sample(run: str) -> Sample:
    """Two gateways on two streets: water levels, a smoke detector, summaries, an event,
    health, a birth and a hub event, all in the last ten seconds."""
    now = int(time.time() * 1000)
    s = Sample(run, now, [])
    w1, w2, s1 = s.sensor("w1"), s.sensor("w2"), s.sensor("s1")
    huamu = Origin(
        Area(district=run, street="huamu", community="lianyang"),
        "gw-a",
        {w1: Placement(building="b12", risk_point=RiskPoint.BASEMENT)},
    )
    yangjing = Origin(Area(district=run, street="yangjing", community="juquan"), "gw-b")
    wl = KindName.WATER_LEVEL
    stats = {"depth": MetricStats(min=1.0, max=4.0, mean=2.5, last=3.0, count=5)}

    def batch(gw: str, readings: list[Reading], summaries: list[WindowSummary]) -> TelemetryBatch:
        return TelemetryBatch(
            gateway=gw, boot=BOOT, seq=1, sent=now, readings=(*readings,), summaries=(*summaries,)
        )

    a_readings = [
        Reading(sensor=w1, kind=wl, t=now - 9000 + i * 1000, values={"depth": 20.0 + i})
        for i in range(3)
    ]
    a_readings.append(
        Reading(sensor=w1, kind=wl, t=now - 6000, values={"depth": 99.0}, quality=Quality.SUSPECT)
    )
    a_readings.append(Reading(sensor=s1, kind=KindName.SMOKE, t=now - 9000, values={"smoke": True}))
    b_readings = [
        Reading(
            sensor=w2, kind=wl, t=now - 9500 + i * 1000, values={"depth": 5.0, "water_leak": False}
        )
        for i in range(2)
    ]
    win = WindowSummary(sensor=w1, kind=wl, start=now - 10_000, end=now - 5000, stats=stats)
    win2 = WindowSummary(sensor=w2, kind=wl, start=now - 10_000, end=now - 5000, stats=stats)
    event = AnomalyEvent(
        id=f"{run}:1", gateway="gw-a", boot=BOOT, seq=1, sensor=w1, kind=wl,
        type=AnomalyType.THRESHOLD, level=Level.YELLOW, state=EventState.RAISED,
        t=now - 7000, metric="depth", value=22.0, threshold=21.5, detail="积水",
    )  # fmt: skip
    health = GatewayHealth(
        gateway="gw-b", boot=BOOT, seq=1, t=now - 4000, uptime_s=12.5,
        buffer_depth={"telemetry": 3}, last_seen={w2: now - 8500},
    )  # fmt: skip
    birth = GatewayState(
        gateway="gw-a", area=huamu.area, online=True, boot=BOOT, t=now - 10_000, software="0.1.0"
    )
    outage = HubEvent(
        id=f"{run}:h", type=HubEventType.AREA_OUTAGE, t=now - 3000, district=run,
        street="yangjing", community="juquan", gateways=("gw-b",),
    )  # fmt: skip
    s.points = [
        *telemetry_points(batch("gw-a", a_readings, [win]), huamu),
        *telemetry_points(batch("gw-b", b_readings, [win2]), yangjing),
        *event_points(event, huamu),
        *health_points(health, yangjing),
        *state_points(birth, huamu),
        *hub_event_points(outage),
    ]
    return s


# ------------------------------------------------------------------------------ the targets

TAG_FILTERS = ("sensor", "gateway", "district", "street", "community")
Key = tuple[str, tuple[tuple[str, str], ...], int]


@dataclass
class Target:
    config: StorageConfig
    raw_count: Callable[[], int]  # what the database itself holds, duplicates included
    numeric_only: bool = False  # VictoriaMetrics: the store drops string fields


def sqlite_count(file: Path) -> int:
    with closing(sqlite3.connect(file)) as db:
        count: int = db.execute("SELECT count(*) FROM points").fetchone()[0]
        return count


@pytest.fixture(params=["sqlite", "influxdb_v1", "influxdb_v2"])
def target(request: pytest.FixtureRequest, tmp_path: Path, topic_prefix: str) -> Iterator[Target]:
    if request.param == "sqlite":
        file = tmp_path / "store.sqlite3"
        yield Target(
            StorageConfig(backend="sqlite"),
            lambda: sqlite_count(file),
        )
        return
    if request.param == "influxdb_v1":
        influxdb: InfluxDBService = request.getfixturevalue("influxdb")
        db = "sw_" + topic_prefix.replace("-", "_")
        v1 = InfluxV1Config(url=influxdb.url, database=db)
        yield Target(
            StorageConfig(backend="influxdb_v1", influxdb_v1=v1),
            lambda: len(influxdb.query(db, "SELECT * FROM /.*/ GROUP BY *")),
        )
        influxdb.drop_database(db)
        return
    vm: VictoriaMetricsService = request.getfixturevalue("victoriametrics")
    v2 = InfluxV2Config(url=vm.url, query_api="victoriametrics")
    yield Target(
        StorageConfig(backend="influxdb_v2", influxdb_v2=v2),
        lambda: sum(len(x["values"]) for x in vm.export(f'{{district="{topic_prefix}"}}')),
        numeric_only=True,
    )


def key(measurement: str, tags: Mapping[str, str] | Iterable[tuple[str, str]], t: int) -> Key:
    items = tags.items() if isinstance(tags, Mapping) else tags
    return (measurement, tuple(sorted(items)), t)


def expected(points: list[Point], q: QueryFilter) -> list[Key]:
    """What ``q`` must return, worked out in plain Python."""

    def matches(p: Point) -> bool:
        tags = dict(p.tags)
        if p.time_ms < q.since_ms or (q.until_ms is not None and p.time_ms >= q.until_ms):
            return False
        if q.measurement is not None and p.measurement != q.measurement:
            return False
        if q.kind is not None and p.measurement not in (q.kind, f"{q.kind}_window"):
            return False
        return all(getattr(q, t) in (None, tags.get(t)) for t in TAG_FILTERS)

    found = sorted(key(p.measurement, p.tags, p.time_ms) for p in points if matches(p))
    return sorted(found, key=lambda k: k[2])[-q.limit :]


async def read(store: Backend, q: QueryFilter, at_least: int) -> list[Row]:
    """``store.query(q)``, again until it has ``at_least`` rows (VictoriaMetrics shows new
    samples after about a second)."""
    deadline = time.monotonic() + 15
    while True:
        rows = await store.query(q)
        if len(rows) >= at_least or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.2)


async def wait_for(count: Callable[[], int], n: int) -> int:
    """``count()`` once it reaches ``n``, or after 15 s."""
    deadline = time.monotonic() + 15
    found = count()
    for _ in range(100):
        if found >= n or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
        found = count()
    return found


def stored_fields(p: Point, numeric_only: bool) -> dict[str, object]:
    return {k: v for k, v in p.fields.items() if not (numeric_only and isinstance(v, str))}


# ---------------------------------------------------------------------------------- tests


async def test_each_point_is_stored_once_with_its_tags_even_when_written_again(
    target: Target, tmp_path: Path, topic_prefix: str
) -> None:
    s = sample(topic_prefix)
    n = len(s.points)
    raw_n = sum(len(stored_fields(p, target.numeric_only)) for p in s.points)
    raw_n = raw_n if target.numeric_only else n  # VictoriaMetrics: one sample per field
    async with open_backend(target.config, tmp_path) as store:
        await store.write(s.points)
        rows = await read(store, s.query(limit=10_000), n)
        assert sorted(key(r.measurement, r.tags, r.time_ms) for r in rows) == sorted(
            key(p.measurement, p.tags, p.time_ms) for p in s.points
        )
        by_key = {key(r.measurement, r.tags, r.time_ms): dict(r.fields) for r in rows}
        for p in s.points:  # numbers compare equal across types: 31 == 31.0, True == 1
            assert by_key[key(p.measurement, p.tags, p.time_ms)] == stored_fields(
                p, target.numeric_only
            )
        assert await wait_for(target.raw_count, raw_n) == raw_n

        await store.write(s.points[::-1])  # again, in another order and split in two
        await store.write(s.points[:3])
        rows = await read(store, s.query(limit=10_000), n)
        assert len(rows) == n
        if target.numeric_only:  # VictoriaMetrics keeps duplicate samples (docs/storage.md)
            assert await wait_for(target.raw_count, 2 * raw_n) >= 2 * raw_n
        else:
            assert target.raw_count() == n


async def test_queries_by_sensor_street_kind_time_and_limit(
    target: Target, tmp_path: Path, topic_prefix: str
) -> None:
    s = sample(topic_prefix)
    w1 = s.sensor("w1")
    queries = [
        s.query(sensor=w1),
        s.query(street="yangjing"),
        s.query(kind="water_level"),
        s.query(kind="water_level", measurement="water_level_window"),
        s.query(gateway="gw-b", community="juquan"),
        QueryFilter(s.now - 8500, s.now - 6000, district=topic_prefix),
        s.query(sensor=w1, measurement="water_level", limit=2),
        s.query(sensor=f"{w1}' OR '1'='1"),  # ids are data, never query text
        s.query(sensor=f'{w1}" OR "1"="1'),
        s.query(sensor=f"{w1}\\' OR time > 0 --"),
    ]
    async with open_backend(target.config, tmp_path) as store:
        await store.write(s.points)
        await read(store, s.query(limit=10_000), len(s.points))
        for q in queries:
            want = expected(s.points, q)
            rows = await store.query(q)
            assert sorted(key(r.measurement, r.tags, r.time_ms) for r in rows) == sorted(want), q
            assert [r.time_ms for r in rows] == sorted(r.time_ms for r in rows)
        assert len(expected(s.points, queries[0])) == 6  # the filters do select something
        assert [k[2] for k in expected(s.points, queries[6])] == [s.now - 7000, s.now - 6000]


async def test_a_value_no_backend_can_store_is_rejected(target: Target, tmp_path: Path) -> None:
    bad = Point("water_level", (("sensor", "w"),), {"depth": float("nan")}, int(time.time() * 1000))
    async with open_backend(target.config, tmp_path) as store:
        with pytest.raises(StorageRejected, match="nan"):
            await store.write([bad])


# ------------------------------------------------------------------ outages and refusals


def v1_config(url: str, **kwargs: object) -> StorageConfig:
    v1 = InfluxV1Config(url=url, **kwargs)
    return StorageConfig(backend="influxdb_v1", influxdb_v1=v1, timeout_s=2)


def v2_config(url: str) -> StorageConfig:
    v2 = InfluxV2Config(url=url, query_api="victoriametrics")
    return StorageConfig(backend="influxdb_v2", influxdb_v2=v2, timeout_s=2)


@pytest.mark.parametrize("backend", ["influxdb_v1", "influxdb_v2"])
async def test_a_stopped_server_is_unavailable_and_the_store_recovers(
    backend: str, tmp_path: Path, topic_prefix: str
) -> None:
    # Servers of its own: the shared ones must keep running for the other tests.
    server: InfluxDBService | VictoriaMetricsService
    if backend == "influxdb_v1":
        server = InfluxDBService(tmp_path / "influxdb")
        config = v1_config(server.url, database="sw")
    else:
        server = VictoriaMetricsService(tmp_path / "vm")
        config = v2_config(server.url)
    s = sample(topic_prefix)
    try:
        # Opened while the server is down (the hub starts anyway and spools).
        async with open_backend(config, tmp_path) as store:
            assert not await store.ping()
            with pytest.raises(StorageUnavailable, match=f"{server.url}.*unreachable"):
                await store.write(s.points)
            server.start()
            assert await store.ping()
            await store.write(s.points)  # InfluxDB: the database is created first
            assert len(await read(store, s.query(limit=10_000), len(s.points))) == len(s.points)
            server.stop()
            assert not await store.ping()
            with pytest.raises(StorageUnavailable):
                await store.write(s.points)
            with pytest.raises(StorageUnavailable):
                await store.query(s.query())
    finally:
        server.stop()


@asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A TCP server that accepts connections and never answers: the base URL."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("make_config", [v1_config, v2_config])
async def test_a_server_that_never_answers_times_out_as_unavailable(
    make_config: Callable[[str], StorageConfig], tmp_path: Path, topic_prefix: str
) -> None:
    async with silent_server() as url:
        config = make_config(url).model_copy(update={"timeout_s": 0.5})
        async with open_backend(config, tmp_path) as store:
            started = time.monotonic()
            with pytest.raises(StorageUnavailable):
                await store.write(sample(topic_prefix).points)
            assert time.monotonic() - started < 5


async def test_influxdb_refusals_are_rejected_with_its_message(
    influxdb: InfluxDBService, tmp_path: Path, topic_prefix: str
) -> None:
    db = "sw_" + topic_prefix.replace("-", "_")
    now = int(time.time() * 1000)
    tags = (("sensor", "w1"),)
    try:
        async with open_backend(v1_config(influxdb.url, database=db), tmp_path) as store:
            await store.write([Point("water_level", tags, {"depth": 1.5}, now)])
            with pytest.raises(StorageRejected, match="partial write: field type conflict"):
                await store.write([Point("water_level", tags, {"depth": 2}, now + 1)])
        influxdb.query(db, f"CREATE RETENTION POLICY short ON {db} DURATION 1h REPLICATION 1")
        config = v1_config(influxdb.url, database=db, retention_policy="short")
        async with open_backend(config, tmp_path) as store:
            await store.write([Point("water_level", tags, {"depth": 1.5}, now)])
            old = Point("water_level", tags, {"depth": 1.5}, now - 3 * 3_600_000)
            with pytest.raises(StorageRejected, match="points beyond retention policy dropped=1"):
                await store.write([old])
        in_short = influxdb.query(db, 'SELECT count("depth") FROM "short"."water_level"')
        assert [row["count"] for row in in_short] == [1]  # the first point went to `short`
    finally:
        influxdb.drop_database(db)


@asynccontextmanager
async def answering(status: int, body: dict[str, str]) -> AsyncIterator[str]:
    """An HTTP server answering every request with ``status`` and the JSON ``body``, the way
    InfluxDB 2.x answers (VictoriaMetrics takes anything, so it cannot show a refusal)."""

    async def handle(_: web.Request) -> web.Response:
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield "http://{}:{}".format(*runner.addresses[0][:2])
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (422, StorageRejected),
        (400, StorageRejected),
        (401, StorageUnavailable),
        (503, StorageUnavailable),
    ],
)
async def test_v2_write_errors_by_status(
    status: int, error: type[Exception], tmp_path: Path, topic_prefix: str
) -> None:
    message = "failure writing points to database: partial write: field type conflict"
    async with (
        answering(status, {"code": "invalid", "message": message}) as url,
        open_backend(v2_config(url), tmp_path) as store,
    ):
        with pytest.raises(error, match=f"HTTP {status}: {message}"):
            await store.write(sample(topic_prefix).points)


# ---------------------------------------------- what VictoriaMetrics does (docs/storage.md)


def test_victoriametrics_stores_bools_as_1_0_and_strings_as_zeros(
    victoriametrics: VictoriaMetricsService, topic_prefix: str
) -> None:
    now = int(time.time() * 1000)
    line = f'vmcheck,run={topic_prefix} on=true,off=false,text="hello" {now}\n'
    httpx.post(f"{victoriametrics.url}/api/v2/write", params={"precision": "ms"}, content=line,
               trust_env=False).raise_for_status()  # fmt: skip
    series = victoriametrics.wait_for_export(f'{{run="{topic_prefix}"}}', samples=3)
    values = {s["metric"]["__name__"]: s["values"] for s in series}
    assert values == {"vmcheck_on": [1], "vmcheck_off": [0], "vmcheck_text": [0]}


async def test_the_v2_store_writes_no_string_fields_to_victoriametrics(
    victoriametrics: VictoriaMetricsService, tmp_path: Path, topic_prefix: str
) -> None:
    s = sample(topic_prefix)
    async with open_backend(v2_config(victoriametrics.url), tmp_path) as store:
        await store.write(s.points)
    series = victoriametrics.wait_for_export(f'{{district="{topic_prefix}"}}', samples=10)
    names = {x["metric"]["__name__"] for x in series}
    assert "gateway_state_online" in names
    assert not names & {"gateway_state_software", "anomaly_event_id", "anomaly_event_detail"}


async def test_victoriametrics_with_dedup_stores_a_rewrite_once(
    tmp_path: Path, topic_prefix: str
) -> None:
    vm = start_victoriametrics(tmp_path / "vm", dedup=True)
    try:
        s = sample(topic_prefix)
        async with open_backend(v2_config(vm.url), tmp_path) as store:
            for _ in range(3):
                await store.write(s.points)
        match = f'{{district="{topic_prefix}"}}'
        n = sum(len(x["values"]) for x in vm.wait_for_export(match, samples=10))
        await asyncio.sleep(1.5)  # anything late would show by now
        assert sum(len(x["values"]) for x in vm.export(match)) == n
        assert n == sum(1 for p in s.points for v in p.fields.values() if not isinstance(v, str))
    finally:
        vm.stop()


class TinyInfluxDB(InfluxDBService):
    """influxd with a limit of 2 values per tag, to hit a cardinality limit with 3 sensors."""

    def _write_config(self) -> None:
        super()._write_config()
        text = self.conf_path.read_text().replace("[data]\n", "[data]\n  max-values-per-tag = 2\n")
        self.conf_path.write_text(text)


async def test_a_cardinality_limit_keeps_the_points_for_later(
    tmp_path: Path, topic_prefix: str
) -> None:
    server = TinyInfluxDB(tmp_path / "influxdb")
    server.start()
    try:
        now = int(time.time() * 1000)
        points = [
            Point("water_level", (("sensor", f"w{i}"),), {"depth": 1.0}, now) for i in range(3)
        ]
        async with open_backend(v1_config(server.url, database="sw"), tmp_path) as store:
            await store.write(points[:1])
            await store.write(points[1:2])  # InfluxDB counts the values stored before a batch
            with pytest.raises(StorageUnavailable, match="max-values-per-tag limit exceeded"):
                await store.write(points)
        assert server.count("sw", "water_level", "depth") == 2
    finally:
        server.stop()


async def test_v2_store_reads_back_with_influxql(
    influxdb: InfluxDBService, tmp_path: Path, topic_prefix: str
) -> None:
    """``query_api: influxql`` against a real /query (InfluxDB 1.x: the v2 write API is not
    there, so the points go in through the v1 store; the bucket is the database)."""
    db = "sw_" + topic_prefix.replace("-", "_")
    s = sample(topic_prefix)
    v2 = InfluxV2Config(url=influxdb.url, bucket=db, token=SecretStr("unused"))
    try:
        async with open_backend(v1_config(influxdb.url, database=db), tmp_path) as v1_store:
            await v1_store.write(s.points)
        async with open_backend(
            StorageConfig(backend="influxdb_v2", influxdb_v2=v2), tmp_path
        ) as store:
            rows = await store.query(s.query(street="yangjing"))
            assert await store.ping()
        want = expected(s.points, s.query(street="yangjing"))
        assert sorted(key(r.measurement, r.tags, r.time_ms) for r in rows) == sorted(want)
        assert len(want) == 5  # 2 readings, a window, health, an outage
    finally:
        influxdb.drop_database(db)

"""What the Grafana dashboards read, end to end: a birth with sensor coordinates and one alarm
reach a hub writing to a real InfluxDB 1.x, and the map's InfluxQL queries of ``street_status``,
``sensor_info``, ``anomaly_event`` and ``page`` return the expected rows.

Real Mosquitto, real InfluxDB, a real HTTP receiver standing in for the responders' webhook; the
hub runs on a manual clock, so the times of the street pictures are exact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.fleet import VirtualGateway
from support.http_receiver import HttpReceiver
from support.services import InfluxDBService, MosquittoService
from support.waiting import eventually

from hub.service import Hub
from streetwatch.clock import ManualClock, now_ms
from streetwatch.levels import Level
from streetwatch.location import Area, Coordinates
from streetwatch.messages import GatewayState

from .conftest import fleet, running_hub
from .stored import backend_extra, influx_db_name

LIANYANG = Area(district="pudong", street="huamu", community="lianyang")
POSITIONS = [Coordinates(lat=31.2230, lon=121.5610), Coordinates(lat=31.2250, lon=121.5630)]
HUAMU_OFFICE = (31.2140, 121.5560)  # examples/hub.yaml: the street's own coordinates
YANGJING_OFFICE = (31.2405, 121.5318)
MAP = (  # docs/storage.md: the map, with $timeFilter filled in
    'SELECT last("severity"), last("lat"), last("lon") FROM "street_status" '
    'WHERE {} GROUP BY "street"'
)


def notify(url: str) -> dict[str, Any]:
    return {
        "channels": {"hook": {"type": "webhook", "url": url, "secret": "s" * 32}},
        "responders": [
            {"id": "wang", "name": "王网格", "role": "grid_worker", "district": "pudong",
             "street": "huamu", "community": "lianyang", "contact": ["hook"]},
        ],
    }  # fmt: skip


def placed_birth(gw: VirtualGateway, t: int) -> GatewayState:
    """The fleet's birth, with coordinates for each sensor."""
    born = gw.birth(t)
    sensors = tuple(
        s.model_copy(update={"placement": s.placement.model_copy(update={"coordinates": where})})
        for s, where in zip(born.sensors, POSITIONS, strict=True)
    )
    return born.model_copy(update={"sensors": sensors})


@pytest.mark.timeout(120)
async def test_a_birth_and_an_alarm_put_the_street_sensors_and_pages_on_the_map(
    hub_config: Any,
    tmp_path: Path,
    mosquitto: MosquittoService,
    influxdb: InfluxDBService,
    topic_prefix: str,
) -> None:
    clock = ManualClock(start=1_800_000_000)
    db = influx_db_name(topic_prefix)
    gw = VirtualGateway(f"{topic_prefix}-g", LIANYANG, sensors=2)

    def query(influxql: str) -> list[dict[str, object]]:
        return influxdb.query(db, influxql)

    async def stored(hub: Hub, influxql: str, n: int) -> list[dict[str, object]]:
        async def enough() -> bool:
            await hub.writer.flush()
            return len(query(influxql)) >= n

        await eventually(enough, what=f"{n} rows of {influxql}")
        return query(influxql)

    try:
        async with HttpReceiver() as receiver:
            config = hub_config(
                {
                    "storage": backend_extra("influxdb_v1", topic_prefix, influxdb, None),
                    "notify": notify(receiver.url("/page")),
                }
            )
            async with (
                running_hub(config, tmp_path, clock) as hub,
                fleet(mosquitto, topic_prefix, [gw]) as f,
            ):
                start = now_ms(clock)
                since = f"time >= {start - 3_600_000}ms"
                await f.send(gw, placed_birth(gw, start))
                await eventually(lambda: hub.registry.get(gw.gateway) is not None, what="birth")
                await f.send(gw, gw.event(start, Level.ORANGE, sensor=1))
                await eventually(lambda: len(receiver.requests) >= 1, what="the page")
                await clock.advance(1)  # the changed street is written a second later
                changed_at = now_ms(clock)

                # The map: every street of the city, the flooded one orange at its office.
                streets = {r["street"]: r for r in await stored(hub, MAP.format(since), 2)}
                huamu, yangjing = streets["huamu"], streets["yangjing"]
                assert (huamu["last"], huamu["last_1"], huamu["last_2"]) == (3, *HUAMU_OFFICE)
                assert (yangjing["last"], yangjing["last_1"], yangjing["last_2"]) == (
                    0,
                    *YANGJING_OFFICE,
                )
                (picture,) = query(
                    'SELECT * FROM "street_status" WHERE "street" = \'huamu\' '
                    f"AND time = {changed_at}ms"
                )
                assert {
                    k: picture[k]
                    for k in (
                        "level", "open_incidents", "open_orange", "open_red", "unacknowledged",
                        "gateways_online", "gateways_total", "cut_off",
                    )
                } == {
                    "level": "orange", "open_incidents": 1, "open_orange": 1, "open_red": 0,
                    "unacknowledged": 1, "gateways_online": 1, "gateways_total": 1,
                    "cut_off": False,
                }  # fmt: skip

                # Every sensor of the birth, where it is and what it is.
                sensors = await stored(
                    hub,
                    'SELECT "lat", "lon", "floor", "report_interval_s", "count" FROM "sensor_info"'
                    f' WHERE {since} GROUP BY "sensor", "kind", "building"',
                    2,
                )
                assert sorted(
                    (r["sensor"], r["kind"], r["lat"], r["lon"], r["floor"], r["count"])
                    for r in sensors
                ) == [
                    (s, "water_level", p.lat, p.lon, 3, 1)
                    for s, p in zip(gw.sensor_ids(), POSITIONS, strict=True)
                ]

                # The alarm, with its severity at its sensor's position.
                (alarm,) = await stored(
                    hub,
                    f'SELECT "severity", "lat", "lon" FROM "anomaly_event" WHERE {since}'
                    ' GROUP BY "sensor", "state"',
                    1,
                )
                assert (alarm["sensor"], alarm["state"]) == (gw.sensor_ids()[1], "raised")
                assert (alarm["severity"], alarm["lat"], alarm["lon"]) == (
                    3,
                    POSITIONS[1].lat,
                    POSITIONS[1].lon,
                )

                # The round and the page that reached the grid worker.
                pages = await stored(hub, f'SELECT * FROM "page" WHERE {since}', 2)
                assert {
                    (r["action"], r["channel"] or None, r["recipient"], r["tier"], r["count"])
                    for r in pages
                } == {
                    ("notified", None, "", None, 1),  # the round
                    ("notified", "hook", "wang", "grid_worker", 1),
                }
                assert {(r["district"], r["street"], r["hazard"], r["level"]) for r in pages} == {
                    ("pudong", "huamu", "flood", "orange")
                }
    finally:
        influxdb.drop_database(db)

"""Edge-side faults under a steady load (issue #8): the gateway's uplink cut, the gateway killed
during it, its outbox quota reached, its clock or its devices' clocks wrong.

Every case runs the same street (a flood gauge at an underpass, two smoke detectors in one
building), floods it before the fault (the grid worker is paged and answers) and sets the
building on fire during it, and ends with the books (``faults_edge.Books``): no acknowledged
reading lost, no event lost, no incident doubled, nobody paged again about an answered
incident. The harness and the definitions are in ``faults_edge``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support.services import MosquittoService

from .faults_edge import WINDOW_S, OffsetClock, Stand

HOUR_S = 3600
ORANGE_FLOOD_CM = 36  # orange from 30 cm, red from 50


@pytest.mark.timeout(60)
async def test_an_uplink_cut_and_restored_loses_nothing(
    tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    async with Stand(tmp_path, mosquitto, topic_prefix) as stand:
        await stand.start_edge()
        await stand.steady()
        stand.flood(to_cm=ORANGE_FLOOD_CM)
        await stand.acknowledge(await stand.paged("flood", "orange"))

        await stand.cut_uplink()
        stand.fire()
        await stand.wait_outbox("event", 4, "the fire's alarms in the outbox during the cut")
        await stand.wait_outbox("telemetry", 8, "seconds of readings in the outbox")
        await stand.restore_uplink()
        await stand.paged("fire", "red")

        await stand.finish()
        books = await stand.account(events_at_least=6)
    fire = [r for r in books.events if r.tags["kind"] == "smoke" and r.tags["state"] == "raised"]
    assert fire
    assert all(r.fields["replayed"] for r in fire), "raised during the cut, sent after it"


@pytest.mark.timeout(60)
async def test_the_edge_killed_during_a_cut_loses_nothing_it_had_stored(
    tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    async with Stand(tmp_path, mosquitto, topic_prefix) as stand:
        first = await stand.start_edge()
        await stand.steady()
        stand.flood(to_cm=ORANGE_FLOOD_CM)
        await stand.acknowledge(await stand.paged("flood", "orange"))

        await stand.cut_uplink()
        stand.fire()
        await stand.wait_outbox("event", 4, "the fire's alarms in the outbox during the cut")
        await stand.wait_outbox("telemetry", 6, "seconds of readings in the outbox")
        await stand.kill_edge()
        second = await stand.restart_edge()  # the uplink is still cut
        assert second != first
        # The new boot finds the water and the smoke as they are, and raises them again.
        for sensor in ("water-1", "smoke-1", "smoke-2"):
            await stand.wait_level(sensor, "orange")
        await stand.restore_uplink()
        await stand.paged("fire", "red")

        await stand.finish()
        books = await stand.account(events_at_least=9)
    assert stand.killed_events(), "the killed boot's alarms were still in its outbox"
    again = [
        r
        for r in books.events
        if str(r.fields["id"]).startswith(f"{stand.gateway}.{second}.")
        and (r.tags["sensor"], r.tags["state"], r.tags["level"]) == ("water-1", "raised", "orange")
    ]
    assert again, "the new boot raised the answered flood again (and nobody was paged for it)"


QUOTA_MB = 4 / 1024  # 4 KiB: a few seconds of this gateway's telemetry


@pytest.mark.timeout(60)
async def test_the_outbox_quota_reached_during_a_cut_drops_only_telemetry_and_says_so(
    tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    async with Stand(
        tmp_path, mosquitto, topic_prefix, in_process=True, quota_mb=QUOTA_MB
    ) as stand:
        await stand.start_edge()
        await stand.steady()
        stand.flood(to_cm=ORANGE_FLOOD_CM)
        await stand.acknowledge(await stand.paged("flood", "orange"))

        await stand.cut_uplink()
        await stand.wait_dropped("telemetry_quota", 3)  # full: new telemetry is refused
        stand.fire()
        await stand.wait_dropped("telemetry_evicted", 1)  # alarms push the oldest telemetry out
        await stand.wait_outbox("event", 4, "the fire's alarms in the outbox")
        restored = await stand.restore_uplink()
        await stand.paged("fire", "red")
        await stand.steady(2, after_ms=restored)  # telemetry is taken again

        await stand.finish()
        books = await stand.account(events_at_least=6)
    assert books.lost_seqs, "the hub was told which records the alarms pushed out"
    # What is dropped is the outage's: summaries are closed one tick after their window ends,
    # so the window that ended just before the cut goes into the outbox during it.
    dropped = [w for ws in books.edge_windows().values() for w, fate in ws if fate != "stored"]
    assert all(w.start >= stand.cut_at - 2 * WINDOW_S * 1000 - 500 for w in dropped), dropped


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("offset_s", "faulty"),
    [
        # Every device then looks two hours ahead: each sensor reports a clock fault.
        pytest.param(-2 * HOUR_S, {"water-1", "smoke-1", "smoke-2"}, id="2h-behind"),
        # Every device then looks half an hour old: trusted (up to 24 h), nothing reported.
        pytest.param(HOUR_S / 2, set(), id="30min-ahead"),
    ],
)
async def test_a_gateway_clock_off_keeps_readings_alarms_and_pages(
    tmp_path: Path,
    mosquitto: MosquittoService,
    topic_prefix: str,
    offset_s: float,
    faulty: set[str],
) -> None:
    clock = OffsetClock(offset_s)
    async with Stand(tmp_path, mosquitto, topic_prefix, in_process=True, clock=clock) as stand:
        await stand.start_edge()
        await stand.steady()
        stand.flood(to_cm=ORANGE_FLOOD_CM)
        await stand.acknowledge(await stand.paged("flood", "orange"))
        stand.fire()
        await stand.paged("fire", "red")
        await stand.finish()
        books = await stand.account(events_at_least=6)
    faults = {r.tags["sensor"]: r for r in books.events if r.tags["type"] == "fault"}
    assert set(faults) == faulty
    for fault in faults.values():
        assert fault.tags["level"] == "blue"
        assert "(future_time): device clock is 120 min ahead of the gateway" in str(
            fault.fields["detail"]
        )
    device = {i.id for i in books.incidents if i.hazard.value == "device"}
    assert bool(device) == bool(faulty), "clock faults are a device incident"
    assert not [p for p in books.pages if p.incident in device], "which pages nobody"


@pytest.mark.timeout(60)
async def test_device_clocks_off_keep_readings_alarms_and_pages(
    tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    # A box sending local time as if it were UTC (8 h ahead), a detector half an hour behind.
    skews = {"water-1": 8 * HOUR_S * 1000, "smoke-1": -HOUR_S * 1000 // 2}
    async with Stand(tmp_path, mosquitto, topic_prefix, skews_ms=skews) as stand:
        await stand.start_edge()
        await stand.steady()
        stand.flood(to_cm=ORANGE_FLOOD_CM)
        await stand.acknowledge(await stand.paged("flood", "orange"))
        stand.fire()
        await stand.paged("fire", "red")
        await stand.finish()
        books = await stand.account(events_at_least=6)
    faults = {r.tags["sensor"] for r in books.events if r.tags["type"] == "fault"}
    assert faults == {"water-1"}, "the clock ahead is reported; half an hour behind is trusted"
    smoke_1 = [r for r in books.events if r.tags["sensor"] == "smoke-1"]
    assert smoke_1
    assert all(r.time_ms < time.time() * 1000 - 25 * 60_000 for r in smoke_1), (
        "the detector's events keep its own (wrong) time"
    )

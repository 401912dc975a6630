"""The responder API's nearest hydrants come from the pressures the hub has just received."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.fleet import VirtualGateway
from support.services import MosquittoService
from support.waiting import eventually

from streetwatch.location import Coordinates, Placement
from streetwatch.messages import GatewayState, Reading, SensorInfo, TelemetryBatch

from .conftest import fleet, running_hub
from .test_responding import LIANYANG

POSITIONS = {
    "h-near": (31.2233, 121.5620),
    "h-dry": (31.2232, 121.5621),
    "h-far": (31.2300, 121.5620),
}


@pytest.mark.timeout(60)
async def test_nearest_hydrants_with_pressure_for_an_incident(
    hub_config: Any,
    tmp_path: Path,
    mosquitto: MosquittoService,
    topic_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STREETWATCH_HUB_API__ADMIN_TOKEN", "a" * 32)
    g = VirtualGateway(f"{topic_prefix}-hy", LIANYANG, sensors=1)
    now = int(time.time() * 1000)
    birth = GatewayState(
        gateway=g.gateway,
        area=LIANYANG,
        online=True,
        boot=g.boot,
        t=now,
        sensors=(
            *g.birth(now).sensors,
            *(
                SensorInfo(
                    id=s,
                    kind="hydrant",
                    report_interval_s=60,
                    offline_after_s=600,
                    placement=Placement(coordinates=Coordinates(lat=lat, lon=lon)),
                )
                for s, (lat, lon) in POSITIONS.items()
            ),
        ),
    )
    pressures = {"h-near": 0.31, "h-dry": 0.05, "h-far": 0.28}
    async with running_hub(hub_config(), tmp_path) as hub, fleet(mosquitto, topic_prefix, [g]) as f:
        await f.send(g, birth)
        await eventually(lambda: hub.registry.get(g.gateway) is not None, what="birth")
        readings = tuple(
            Reading(sensor=s, kind="hydrant", t=now, values={"pressure": p})
            for s, p in pressures.items()
        )
        await f.send(
            g,
            TelemetryBatch(
                gateway=g.gateway, boot=g.boot, seq=g._seq("data"), sent=now, readings=readings
            ),
        )
        await f.send(g, g.event(now, sensor=0))  # water over the threshold: an incident
        await eventually(f.all_confirmed, what="confirmed")

        async def incident() -> bool:
            return bool(await hub.responding.store.active())

        await eventually(incident, what="the incident")
        (flood,) = await hub.responding.store.active()
        api = f"http://127.0.0.1:{hub.responding.api.port}"  # type: ignore[union-attr]
        async with httpx.AsyncClient(base_url=api) as http:
            answer = await http.get(
                f"/incidents/{flood.id}/resources", headers={"Authorization": "Bearer " + "a" * 32}
            )
    assert answer.status_code == 200, answer.text
    found = [(r["sensor"], r["ok"], r["pressure_mpa"]) for r in answer.json()]
    # Nearest first among those with pressure; the dry one (0.05 MPa < 0.14) last.
    assert found == [("h-near", True, 0.31), ("h-far", True, 0.28), ("h-dry", False, 0.05)]

"""The responder API served by uvicorn on a real 127.0.0.1 port: answer, stop, refuse busy ports."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from pydantic import SecretStr
from support.services import free_port, tcp_open

from hub.api.app import create_app
from hub.api.config import ApiConfig
from hub.api.server import ApiServer, ApiServerError
from hub.api.service import Resource, ResponderInfo, ResponderRole
from hub.incidents.model import Incident, ReportKind
from hub.notify.links import LinkSigner, UsedLinks
from streetwatch.anomalies import Hazard
from streetwatch.clock import SystemClock
from streetwatch.levels import Level

TOKEN = "tok-zhang-wei-0123456789"
ADMIN = "admin-token-0123456789"
FIRE = Incident(
    id="huamu-fire",
    key="k",
    hazard=Hazard.FIRE,
    district="pudong",
    street="huamu",
    level=Level.RED,
    opened_at=1_700_000_000_000,
    updated_at=1_700_000_000_000,
)
ZHANG = ResponderInfo(
    id="zhang-wei", name="张伟", role=ResponderRole.GRID_WORKER, district="pudong", street="huamu"
)


class OneFire:
    """A service with one incident whose metrics can be held, to keep a request in flight."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def incidents(
        self, district: str | None, street: str | None, active_only: bool
    ) -> list[Incident]:
        return [FIRE]

    async def get(self, incident_id: str) -> Incident | None:
        return FIRE if incident_id == FIRE.id else None

    async def acknowledge(self, incident_id: str, by: str) -> Incident:
        return FIRE

    async def resolve(self, incident_id: str, by: str) -> Incident:
        return FIRE

    async def report(self, incident_id: str, by: str, kind: ReportKind, note: str) -> Incident:
        return FIRE

    async def nearby_resources(self, incident_id: str) -> list[Resource]:
        return []

    async def responder(self, responder_id: str) -> ResponderInfo | None:
        return ZHANG if responder_id == ZHANG.id else None

    async def metrics(self) -> bytes:
        self.entered.set()
        await self.release.wait()
        return b"up 1\n"


def api_config(port: int) -> ApiConfig:
    return ApiConfig(
        port=port,
        admin_token=SecretStr(ADMIN),
        responder_tokens=SecretStr(json.dumps({"zhang-wei": TOKEN})),
        graceful_stop_s=5,
    )


@asynccontextmanager
async def serving(service: OneFire, port: int) -> AsyncIterator[ApiServer]:
    config = api_config(port)
    links = LinkSigner(b"k" * 32, config.base_url, 60, clock=SystemClock())
    async with UsedLinks(None) as used:
        app = create_app(service, config, links, used)
        async with ApiServer(app, config) as server:
            yield server


def client(port: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=10)


async def test_serves_over_http() -> None:
    port, sigterm = free_port(), signal.getsignal(signal.SIGTERM)
    async with serving(OneFire(), port) as server, client(port) as http:
        assert server.port == port
        assert (await http.get("/health")).json() == {"status": "ok"}
        response = await http.get("/incidents", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        assert [i["id"] for i in response.json()] == ["huamu-fire"]
        assert (await http.get("/incidents")).status_code == 401
        assert signal.getsignal(signal.SIGTERM) is sigterm  # the hub's, not uvicorn's
    assert not tcp_open(port)


async def test_stop_lets_a_request_in_flight_finish() -> None:
    service, port = OneFire(), free_port()
    service.release.clear()
    async with client(port) as http:
        async with serving(service, port):
            headers = {"Authorization": f"Bearer {ADMIN}"}
            request = asyncio.create_task(http.get("/metrics", headers=headers))
            await asyncio.wait_for(service.entered.wait(), 10)
            asyncio.get_running_loop().call_later(0.3, service.release.set)
        assert service.release.is_set()  # leaving waited for the request in flight
        response = await request
        assert response.status_code == 200
        assert response.text == "up 1\n"
    assert not tcp_open(port)


async def test_cancelled_server_stops_listening() -> None:
    port, listening = free_port(), asyncio.Event()

    async def run() -> None:
        async with serving(OneFire(), port):
            listening.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(run())
    await asyncio.wait_for(listening.wait(), 10)
    assert tcp_open(port)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not tcp_open(port)


async def test_busy_port_is_a_clear_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(ExceptionGroup) as caught:  # as any component's start failure
            async with serving(OneFire(), port):
                pass
    words = f"cannot listen on 127.0.0.1:{port}: .* set api.port"
    assert caught.group_contains(ApiServerError, match=words)

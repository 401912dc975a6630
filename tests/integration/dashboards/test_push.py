"""`streetwatch dashboards push` against a real HTTP server on 127.0.0.1 that answers like
Grafana's API and records every call.

No Grafana binary can be installed on this machine, so the server plays Grafana: the calls
and payloads checked here are those of Grafana's HTTP API (GET/POST /api/folders,
POST /api/dashboards/db). The push is synchronous (grafana_client), so it runs in a thread
while the server answers on the test's event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from click.testing import CliRunner, Result
from support.http_receiver import HttpReceiver, Recorded, Reply, closed_port

from dashboards.boards import BOARDS
from dashboards.cli import group
from dashboards.push import Pushed, PushError, push


class FakeGrafana:
    """Answers like Grafana 11: folders by title, folder creation, dashboard saves."""

    def __init__(self, folders: list[dict[str, Any]] | None = None) -> None:
        self.folders = list(folders or [])

    def __call__(self, request: Recorded) -> Reply:
        match request.method, request.path:
            case "GET", "/api/folders":
                return Reply(json=self.folders)
            case "POST", "/api/folders":
                body = request.json()
                folder = {"id": len(self.folders) + 1, "uid": body["uid"], "title": body["title"]}
                self.folders.append(folder)
                return Reply(json=folder)
            case "POST", "/api/dashboards/db":
                uid = request.json()["dashboard"]["uid"]
                return Reply(json={"status": "success", "uid": uid, "version": 1})
        return Reply(404, {"message": "Not found"})


async def pushing(url: str, token: str = "glsa_test", folder: str = "StreetWatch") -> Pushed:
    return await asyncio.to_thread(push, url, token, folder, timeout=5.0)


async def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, group, list(args), env=env)


def calls(server: HttpReceiver) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.requests]


async def test_creates_the_folder_then_saves_every_dashboard_with_overwrite() -> None:
    async with HttpReceiver(FakeGrafana()) as server:
        pushed = await pushing(server.url(), folder="StreetWatch")

    saves = [("POST", "/api/dashboards/db")] * len(BOARDS)
    assert calls(server) == [("GET", "/api/folders"), ("POST", "/api/folders"), *saves]
    assert server.requests[1].json() == {"title": "StreetWatch", "uid": "streetwatch"}
    bodies = [r.json() for r in server.requests[2:]]
    assert [b["dashboard"]["uid"] for b in bodies] == [b.uid for b in BOARDS]
    for body in bodies:
        assert body["overwrite"] is True
        assert body["folderUid"] == "streetwatch"
        assert body["dashboard"]["panels"]  # the whole dashboard, not a stub
    assert all(r.headers["authorization"] == "Bearer glsa_test" for r in server.requests)
    assert pushed == Pushed("StreetWatch", "streetwatch", True, tuple(b.uid for b in BOARDS))


async def test_an_existing_folder_is_reused_by_its_title() -> None:
    grafana = FakeGrafana([{"id": 7, "uid": "abc123", "title": "城市运行 City ops"}])
    async with HttpReceiver(grafana) as server:
        pushed = await pushing(server.url(), folder="城市运行 City ops")

    assert ("POST", "/api/folders") not in calls(server)
    assert {r.json()["folderUid"] for r in server.requests[1:]} == {"abc123"}
    assert not pushed.folder_created


async def test_a_refused_token_is_explained_and_nothing_is_saved() -> None:
    async with HttpReceiver(lambda _: Reply(401, {"message": "invalid API key"})) as server:
        with pytest.raises(PushError) as caught:
            await pushing(server.url(), token="wrong")

    message = str(caught.value)
    assert "refused the token (401 Unauthorized)" in message
    assert "GRAFANA_TOKEN" in message
    assert calls(server) == [("GET", "/api/folders")]


async def test_a_grafana_that_is_not_running_is_explained() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(PushError, match=r"cannot reach Grafana at .* \(connection refused\)"):
        await pushing(url)


async def test_a_url_that_is_not_grafanas_is_explained() -> None:
    async with HttpReceiver(lambda _: Reply(404, {"message": "no such page"})) as server:
        with pytest.raises(PushError, match=r"has no Grafana API \(404 Not Found"):
            await pushing(server.url("/wrong"))
    assert server.requests[0].path == "/wrong/api/folders"  # a sub-path is kept

    async with HttpReceiver(lambda _: Reply(text="<html>router login</html>")) as server:
        with pytest.raises(PushError, match="did not answer like Grafana"):
            await pushing(server.url())

    with pytest.raises(PushError, match="is not a Grafana address"):
        await pushing("grafana:3000")


async def test_the_command_takes_the_token_from_the_environment() -> None:
    async with HttpReceiver(FakeGrafana()) as server:
        result = await cli("push", "--url", server.url(), env={"GRAFANA_TOKEN": "from-env"})

    assert result.exit_code == 0, result.output
    assert "folder 'StreetWatch' (created, uid streetwatch)" in result.output
    assert server.requests[0].headers["authorization"] == "Bearer from-env"
    assert len([r for r in server.requests if r.path == "/api/dashboards/db"]) == len(BOARDS)


async def test_the_command_fails_with_the_explanation() -> None:
    async with HttpReceiver(lambda _: Reply(401, {"message": "invalid API key"})) as server:
        result = await cli("push", "--url", server.url(), "--token", "wrong")
    assert result.exit_code == 1
    assert "Error: Grafana at" in result.output
    assert "refused the token" in result.output


async def test_without_a_token_nothing_is_sent() -> None:
    async with HttpReceiver(FakeGrafana()) as server:
        result = await cli("push", "--url", server.url(), env={"GRAFANA_TOKEN": ""})
    assert result.exit_code == 1
    assert "no Grafana token" in result.output
    assert server.requests == []

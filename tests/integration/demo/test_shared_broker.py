"""`streetwatch demo --broker HOST:PORT --notify FILE`: somebody else's broker, a real channel.

On a broker others use, the demo keeps every topic under a namespace of its own and clears what
it retained before it leaves; with ``--notify`` the pages also go out on the file's channels.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aiomqtt
import pytest
from support.services import MosquittoService

STREETWATCH = str(Path(sys.executable).parent / "streetwatch")


class Receiver(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1 that keeps every page it is sent."""

    def __init__(self) -> None:
        self.pages: list[dict[str, object]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler) -> None:
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                self.pages.append(json.loads(body))
                handler.send_response(200)
                handler.end_headers()

            def log_message(handler, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


async def retained_topics(port: int) -> list[str]:
    topics = []
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe("#")
        try:
            while True:
                async with asyncio.timeout(1):
                    topics.append(str((await anext(client.messages)).topic))
        except TimeoutError:
            return topics


@pytest.mark.timeout(120)
async def test_a_shared_broker_and_the_pages_on_a_real_channel(
    tmp_path: Path, mosquitto: MosquittoService, receiver: Receiver
) -> None:
    notify = tmp_path / "notify.yaml"
    notify.write_text(f"channels:\n  mine: {{type: webhook, url: '{receiver.url}'}}\n")
    env = {**os.environ, "STREETWATCH_HUB_NOTIFY__CHANNELS__MINE__SECRET": "s" * 24}
    args = ["--scenario", "kitchen-fire", "--speed", "150", "--out", str(tmp_path / "run"),
            "--broker", f"127.0.0.1:{mosquitto.port}", "--notify", str(notify)]  # fmt: skip
    result = await asyncio.to_thread(
        subprocess.run, [STREETWATCH, "demo", *args], capture_output=True, text=True, env=env,
        timeout=110,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"broker 127.0.0.1:{mosquitto.port}" in result.stdout
    ours = [line for line in result.stdout.splitlines() if " PAGE " in line and "via mine" in line]
    assert ours, "no page on the --notify channel"
    assert all("(watcher-" in line for line in ours)
    recipients = {p["recipient"]["id"] for p in receiver.pages}  # type: ignore[index]
    assert recipients
    assert all(str(r).startswith("watcher-") for r in recipients)
    # Other tests keep to their `t-…` prefixes; the demo left nothing, namespaced or not.
    left = [t for t in await retained_topics(mosquitto.port) if not t.startswith("t-")]
    assert left == [], "the demo left retained messages on the shared broker"

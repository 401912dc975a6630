"""The agent's local control socket, for `streetwatch edge status` and `edge test-alarm`.

A Unix socket speaking one JSON object per line. Why not HTTP: the only clients are commands
run on the gateway itself; a socket file needs no port, is guarded by file permissions, and
asyncio serves it without another dependency. (Prometheus metrics, which remote scrapers read,
are served over HTTP by prometheus-client.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from streetwatch.component import Component

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
MAX_REQUEST = 64 * 1024


class ControlServer(Component):
    def __init__(self, path: Path, handler: Handler) -> None:
        self.path = path
        self._handler = handler
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a stale socket from a killed agent
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))
        self.path.chmod(0o660)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            if not line:
                return  # a client that only checked we are listening
            try:
                request = orjson.loads(line[:MAX_REQUEST])
                if not isinstance(request, dict):
                    raise ValueError("a request is a JSON object")
                reply = await self._handler(request)
            except Exception as exc:  # a bad request must not stop the agent
                reply = {"ok": False, "error": str(exc)}
            writer.write(orjson.dumps(reply, default=str) + b"\n")
            await writer.drain()
        except ConnectionError:
            pass  # the client went away; nothing to answer
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def request(path: Path, payload: dict[str, Any], timeout_s: float = 10.0) -> dict[str, Any]:
    """Send one request to a running agent and return its reply."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_unix_connection(str(path), limit=16 * 1024 * 1024), timeout_s
        )
    except (FileNotFoundError, ConnectionRefusedError):
        raise ConnectionError(
            f"no agent is listening on {path}; is `streetwatch edge run` running with this config?"
        ) from None
    try:
        writer.write(orjson.dumps(payload) + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout_s)
    finally:
        writer.close()
    reply = orjson.loads(line)
    if not isinstance(reply, dict):
        raise ConnectionError("the agent sent something that is not a reply")
    return reply

"""A real HTTP server on 127.0.0.1 that records every request and answers like a platform would.

    async with HttpReceiver() as server:
        server.script(Reply(500), Reply(json={"errcode": 0, "errmsg": "ok"}))  # next answers
        ... the code under test POSTs to server.url("/robot/send") ...
        assert server.requests[0].json()["msgtype"] == "markdown"

Once the script is used up, ``respond(request)`` answers (a platform's own checks, e.g. of a
signature), else ``200 {}``. ``Reply(delay_s=...)`` answers late, for timeouts; leaving the
context cuts pending delays short, so no test waits for them. uvicorn serves a bare ASGI app on
a socket bound before it starts, so the port is known and never raced for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl

import uvicorn


@dataclass(frozen=True, slots=True)
class Reply:
    status: int = 200
    json: Any = field(default_factory=dict)
    text: str | None = None  # a raw body instead of JSON
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Recorded:
    method: str
    path: str
    raw_query: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.raw_query, keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


Responder = Callable[[Recorded], Reply]


class HttpReceiver:
    def __init__(self, respond: Responder | None = None) -> None:
        self.requests: list[Recorded] = []
        self._respond = respond
        self._script: list[Reply] = []
        self._closing = asyncio.Event()
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        assert self._socket is not None, "use the receiver inside `async with`"
        port: int = self._socket.getsockname()[1]
        return port

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, *replies: Reply) -> None:
        """The next answers, in order, before ``respond`` (or the default) takes over."""
        self._script.extend(replies)

    async def _app(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            event = await receive()
            body += event.get("body", b"")
            more = event.get("more_body", False)
        request = Recorded(
            method=scope["method"],
            path=scope["path"],
            raw_query=scope["query_string"].decode(),
            headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
            body=body,
        )
        self.requests.append(request)
        if self._script:
            reply = self._script.pop(0)
        else:
            reply = self._respond(request) if self._respond else Reply()
        if reply.delay_s:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), reply.delay_s)
        content = reply.text.encode() if reply.text is not None else json.dumps(reply.json).encode()
        kind = b"text/plain" if reply.text is not None else b"application/json"
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [(b"content-type", kind)],
            }
        )
        await send({"type": "http.response.body", "body": content})

    async def __aenter__(self) -> Self:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        config = uvicorn.Config(
            self._app, interface="asgi3", lifespan="off", log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        for _ in range(500):
            if self._server.started or self._task.done():
                break
            await asyncio.sleep(0.01)
        if not self._server.started:
            raise RuntimeError("the HTTP receiver did not start")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        if self._socket is not None:
            self._socket.close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port

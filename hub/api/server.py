"""The responder API as a hub component: uvicorn serving the app inside the hub's event loop.

The socket is bound on entry, so a port in use is an :class:`ApiServerError` that says so
(uvicorn itself would call ``sys.exit``), and requests arriving before uvicorn is ready wait in
the listen backlog. Leaving the context stops gracefully: no new connections, requests in
flight get ``graceful_stop_s``; then the serve task is cancelled like any component task.

uvicorn is embedded, not in charge: it installs no signal handlers (the hub owns SIGTERM),
configures no logging, runs no lifespan, and writes no access log (``/ack/<token>`` URLs carry
one-tap credentials).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from hub.api.config import ApiConfig
from streetwatch.component import Component

__all__ = ["ApiServer", "ApiServerError"]


class ApiServerError(Exception):
    """The API cannot listen; the message says where and what to do."""


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the process's signals belong to the hub, not to its HTTP server


class ApiServer(Component):
    """``async with ApiServer(app, config)`` serves ``app`` on ``config.host:config.port``."""

    def __init__(self, app: ASGIApp, config: ApiConfig) -> None:
        self.app = app
        self.config = config
        self._server: _EmbeddedServer | None = None
        self._socket: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one chosen by the system when configured as 0)."""
        if self._socket is None:
            raise RuntimeError("the API server is not running: use `async with`")
        port: int = self._socket.getsockname()[1]
        return port

    async def start(self) -> None:
        host, port = self.config.host, self.config.port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            self._socket = socket.create_server((host, port), family=family, backlog=2048)
        except OSError as exc:
            raise ApiServerError(
                f"the responder API cannot listen on {host}:{port}: {exc.strerror}; another "
                "process may use the port: stop it or set api.port (or api.host) in hub.yaml"
            ) from exc
        self._server = _EmbeddedServer(
            uvicorn.Config(
                self.app,
                lifespan="off",
                log_config=None,
                access_log=False,
                server_header=False,
                timeout_graceful_shutdown=self.config.graceful_stop_s,
            )
        )
        self._task = self.spawn(self._serve(self._server, self._socket), "serve")

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await asyncio.wait({self._task})

    @staticmethod
    async def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        finally:  # also when cancelled: nothing keeps listening
            for listener in getattr(server, "servers", ()):
                listener.close()
            sock.close()

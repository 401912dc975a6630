"""A Prometheus endpoint for one component's collector (no module-level metrics).

prometheus-client serves from its own thread; the collector only reads the component's state
at scrape time, so nothing else crosses threads.
"""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.registry import Collector


class PrometheusEndpoint:
    """Serves ``collector``'s metrics on host:port from ``open()`` until ``close()``."""

    def __init__(self, port: int, collector: Collector, host: str = "127.0.0.1") -> None:
        self.port = port
        self.host = host
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(collector)
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def open(self) -> None:
        self._server, self._thread = start_http_server(
            self.port, addr=self.host, registry=self.registry
        )

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

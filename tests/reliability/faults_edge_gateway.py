"""The gateway under test in the edge-side fault cases: its config and the two ways to run it.

``gateway_yaml`` writes the gateway.yaml of a case (summary windows of ``WINDOW_S``, fast
reconnects and resends). ``EdgeProcess`` is ``streetwatch edge run`` as a process, which a case
may kill; ``EdgeInProcess`` is ``EdgeAgent`` in the test's process, for a case that injects its
clock (``OffsetClock``) or keeps the ``LedgerOutbox``: every record offered to the outbox and the
outcome, the gateway's own books. ``outbox_file_records`` reads what a killed agent's outbox file
held.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from integration.edge.test_edge_process import STREETWATCH
from support.services import ManagedProcess, MosquittoService, unix_socket_answers

from edge.agent import EdgeAgent
from edge.config import GatewayConfig
from edge.control import request
from edge.outbox import AddOutcome, NewRecord, SqliteOutbox
from streetwatch.clock import Clock

from .faults_edge_devices import Device

__all__ = [
    "WINDOW_S",
    "EdgeInProcess",
    "EdgeProcess",
    "LedgerOutbox",
    "OffsetClock",
    "gateway_yaml",
    "outbox_file_records",
]

AREA = {"district": "pudong", "street": "huamu", "community": "lianyang"}
WINDOW_S = 1


class OffsetClock:
    """The system clock, ``offset_s`` off: a gateway whose NTP is wrong."""

    def __init__(self, offset_s: float) -> None:
        self.offset_s = offset_s

    def now(self) -> float:
        return time.time() + self.offset_s

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


class LedgerOutbox(SqliteOutbox):
    """The real SQLite outbox, keeping a copy of every record offered to it and the outcome:
    the gateway's own books of what it accepted and what it refused."""

    def __init__(self, path: Path, *, quota_bytes: int) -> None:
        super().__init__(path, quota_bytes=quota_bytes)
        self.ledger: list[tuple[NewRecord, AddOutcome]] = []

    async def add_many(self, items: Sequence[NewRecord]) -> list[AddOutcome]:
        outcomes = await super().add_many(items)
        self.ledger.extend(zip(items, outcomes, strict=True))
        return outcomes


class EdgeProcess:
    """``streetwatch edge run -c gateway.yaml``, started again after each stop or kill."""

    def __init__(self, config_file: Path) -> None:
        self.config_file = config_file
        self.dir = config_file.parent
        self.socket = self.dir / "gw.sock"
        self.outbox = self.dir / "outbox.sqlite3"
        self.runs = 0
        self.process: ManagedProcess | None = None

    async def start(self) -> None:
        self.runs += 1
        self.process = ManagedProcess(
            f"edge-{self.runs}",
            [STREETWATCH, "edge", "run", "-c", str(self.config_file)],
            self.dir / f"edge-{self.runs}.log",
            ready=lambda: unix_socket_answers(self.socket),
            cwd=self.dir,
        )
        await asyncio.to_thread(self.process.start)

    async def stop(self) -> None:
        if self.process is not None:
            await asyncio.to_thread(self.process.stop)

    def kill(self) -> None:
        """SIGKILL: nothing saved on the way down."""
        assert self.process is not None
        self.process.kill()

    async def status(self) -> dict[str, Any]:
        try:
            return await request(self.socket, {"op": "status"})
        except (ConnectionError, OSError):
            return {}


class EdgeInProcess:
    """``EdgeAgent`` in this process, on ``clock``, with a ``LedgerOutbox``."""

    def __init__(self, config_file: Path, clock: Clock | None, quota_mb: float) -> None:
        data = yaml.safe_load(config_file.read_text())
        self.config = GatewayConfig(**data)
        self.dir = config_file.parent
        self.clock = clock
        self.outbox = LedgerOutbox(self.dir / "outbox.sqlite3", quota_bytes=int(quota_mb * 2**20))
        self.agent: EdgeAgent | None = None

    async def start(self) -> None:
        agent = EdgeAgent(self.config, base_dir=self.dir, clock=self.clock, outbox=self.outbox)
        self.agent = await agent.__aenter__()

    async def stop(self) -> None:
        if self.agent is not None:
            agent, self.agent = self.agent, None
            await agent.__aexit__(None, None, None)

    async def status(self) -> dict[str, Any]:
        return await self.agent.status() if self.agent is not None else {}


def gateway_yaml(
    tmp: Path,
    *,
    gateway: str,
    prefix: str,
    local: MosquittoService,
    uplink_port: int,
    devices: Iterable[Device],
    quota_mb: float,
) -> Path:
    """Write the gateway.yaml of a case (the ``devices`` as its sensors) into ``tmp``."""
    data: dict[str, Any] = {
        "gateway": {"id": gateway, "area": AREA},
        "local_broker": {"host": local.host, "port": local.port},
        "uplink": {
            "host": "127.0.0.1",
            "port": uplink_port,
            "topic_prefix": prefix,
            "reconnect_min_s": 0.2,
            "reconnect_max_s": 1,
            "keepalive_s": 5,
            "resend_after_s": 2,
            "replay_rate": 5000,
        },
        "buffer": {"path": "outbox.sqlite3", "quota_mb": quota_mb},
        "reporting": {"window_s": WINDOW_S, "batch_wait_s": 0.2},
        "health": {"interval_s": 5, "control_socket": "gw.sock"},
        "sensors": [d.gateway_entry() for d in devices],
    }
    tmp.mkdir(parents=True, exist_ok=True)
    file = tmp / "gateway.yaml"
    file.write_text(yaml.safe_dump(data), encoding="utf-8")
    return file


def outbox_file_records(path: Path, scratch: Path) -> list[tuple[str, str, int, bytes]]:
    """(boot, channel, seq, payload) of every record in a dead agent's outbox file, read from a
    copy (the agent's next start must find the file as the crash left it)."""
    scratch.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            shutil.copy(source, scratch / source.name)
    db = sqlite3.connect(scratch / path.name)
    try:
        rows = db.execute("SELECT boot, channel, seq, payload FROM outbox").fetchall()
    finally:
        db.close()
    return [(boot, channel, int(seq), bytes(payload)) for boot, channel, seq, payload in rows]

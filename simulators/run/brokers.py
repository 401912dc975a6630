"""A private Mosquitto for one simulation run: the run's hub broker or its local broker.

A run owns its brokers outright: they listen on 127.0.0.1 on ports nobody else uses (the machine
may run its own Mosquitto on 1883), keep their files in the run's directory, and can be restarted
in the middle of a scenario. Persistence is on, so a restart keeps persistent sessions and their
queued QoS 1 messages as a production broker does. Each broker runs in its own session and is
signalled by its PID only: SIGTERM, a wait, then SIGKILL; nothing else is ever touched.

The small helpers (free_port, tcp_open, find_binary, log_tail) are shared with the test servers
in tests/support/services.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Self

HOST = "127.0.0.1"
READY_TIMEOUT_S = 10.0  # from start to accepting TCP connections
STOP_TIMEOUT_S = 10.0  # from SIGTERM to SIGKILL
MISSING_MOSQUITTO = (
    "mosquitto is not installed: `sudo apt install mosquitto` "
    "(the simulator runs its own private brokers on 127.0.0.1)"
)


class BrokerError(RuntimeError):
    """A broker could not start (the message quotes its log) or was used before it started."""


def free_port(host: str = HOST) -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(port: int, host: str = HOST) -> bool:
    """Whether a listener holds the port (bound as Mosquitto binds it, so TIME_WAIT is fine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


def tcp_open(port: int, host: str = HOST) -> bool:
    """Whether a TCP connection to host:port succeeds (blocks up to half a second)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def find_binary(name: str) -> str | None:
    """The path of a server binary, also looked for in /usr/sbin and /sbin (often not on PATH)."""
    path = os.environ.get("PATH", os.defpath) + os.pathsep + "/usr/sbin" + os.pathsep + "/sbin"
    return shutil.which(name, path=path)


def log_tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file, for error messages."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16_384))
            text = f.read().decode(errors="replace")
    except FileNotFoundError:
        return "(no log file)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


class StartStop:
    """``async with`` around ``start`` and ``stop``: the brokers a run uses, its own or not.
    (Not a ``Component``: a broker is started and stopped again in mid-run, and owns no task.)"""

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class ChildBroker(StartStop):
    """An MQTT broker in a child process of ours on 127.0.0.1; ``async with`` starts and stops
    it. Subclasses say what to run (``start`` calls ``_launch``) and where it logs.

    Port 0 picks a free port at the first start; restarts keep it.
    """

    program = "broker"  # for messages: "mosquitto", "amqtt"
    log_name = "broker.log"

    def __init__(self, data_dir: Path, *, port: int = 0, name: str = "broker") -> None:
        self.data_dir = data_dir.absolute()  # Mosquitto's config wants absolute paths
        self.name = name
        self.host = HOST
        self._port = port
        self._process: asyncio.subprocess.Process | None = None

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.name} {self.host}:{self._port} pid={self.pid} "
            f"alive={self.alive}>"
        )

    @property
    def port(self) -> int:
        if self._port == 0:
            raise BrokerError(f"broker {self.name!r} has no port before its first start()")
        return self._port

    @property
    def pid(self) -> int | None:
        """The PID of the latest start, kept after it stops; None before the first start."""
        return None if self._process is None else self._process.pid

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def log_path(self) -> Path:
        return self.data_dir / self.log_name

    async def stop(self) -> None:
        """SIGTERM (Mosquitto saves its sessions), wait up to STOP_TIMEOUT_S, then SIGKILL."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    async def restart(self) -> None:
        """Stop gracefully and start again on the same port."""
        await self.stop()
        await self.start()

    def _check_not_running(self) -> None:
        if self.alive:
            raise BrokerError(f"broker {self.name!r} is already running (pid {self.pid})")

    async def _launch(self, *command: str) -> None:
        """Run ``command`` in its own session (Ctrl-C goes to the run, which then stops its
        brokers) and return once it accepts TCP connections; kill it if it never does."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:  # what it prints before its own log is open
            self._process = process = await asyncio.create_subprocess_exec(
                *command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            await self._wait_ready(process)
        except BaseException:  # not ready, or the run was cancelled: leave no broker behind
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise

    async def _wait_ready(self, process: asyncio.subprocess.Process) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT_S
        while not await asyncio.to_thread(tcp_open, self.port, self.host):
            if process.returncode is not None:
                raise self._failed(f"exited with code {process.returncode} before it accepted")
            if loop.time() > deadline:
                raise self._failed(f"did not accept within {READY_TIMEOUT_S:g} s")
            await asyncio.sleep(0.02)

    def _failed(self, what: str) -> BrokerError:
        return BrokerError(
            f"broker {self.name!r} ({self.program}) {what} connections on {self.host}:{self.port}; "
            f"{self.log_path} ends with:\n{log_tail(self.log_path)}"
        )


class Broker(ChildBroker):
    """One Mosquitto process on 127.0.0.1, with persistence: a restart keeps the sessions."""

    program = "mosquitto"
    log_name = "mosquitto.log"

    @property
    def conf_path(self) -> Path:
        return self.data_dir / "mosquitto.conf"

    async def start(self) -> None:
        """Start Mosquitto and return once it accepts TCP connections."""
        self._check_not_running()
        binary = find_binary("mosquitto")
        if binary is None:
            raise BrokerError(MISSING_MOSQUITTO)
        if self._port == 0:
            self._port = free_port()
        elif port_in_use(self._port):
            raise BrokerError(
                f"broker {self.name!r}: port {self._port} on {self.host} is already in use; "
                "pass port=0 to pick a free one"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(self._config())
        await self._launch(binary, "-c", str(self.conf_path))

    def _config(self) -> str:
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            # Saved on SIGTERM, so restart() keeps persistent sessions and queued QoS 1 messages.
            "persistence true",
            f"persistence_location {self.data_dir}/",
            # The stock limits (1000 queued, 20 in flight) drop QoS 1 messages silently once a
            # slow or offline persistent subscriber falls behind; a run must see every message.
            "max_queued_messages 100000",
            "max_inflight_messages 1000",
            # As deploy/mosquitto/*.conf: Nagle's algorithm would hold small packets (PUBACKs,
            # alarms) back behind unacknowledged data for up to a delayed ACK (40 ms).
            "set_tcp_nodelay true",
            f"log_dest file {self.log_path}",
            "log_timestamp_format %Y-%m-%dT%H:%M:%S",
            # Run as whoever runs the simulator: as root, Mosquitto would otherwise switch to the
            # 'mosquitto' user, which cannot write into the run's directory.
            f"user {pwd.getpwuid(os.geteuid()).pw_name}",
        ]
        return "\n".join(lines) + "\n"

"""Start real Mosquitto, InfluxDB 1.x and VictoriaMetrics servers for tests.

Each server listens on a free port on 127.0.0.1 (never a standard port: the machine may run its
own Mosquitto on 1883), keeps its data in a directory the caller passes in (a pytest tmp path),
and is started in its own session so that it is stopped by its PID only: SIGTERM, a wait, then
SIGKILL. Nothing this module did not start is ever signalled.

The port and log helpers are the simulator's own (simulators/run/brokers.py), which runs
private Mosquitto brokers the same way at runtime.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import orjson

from simulators.run.brokers import HOST as HOST
from simulators.run.brokers import find_binary as which_server
from simulators.run.brokers import free_port as free_port
from simulators.run.brokers import log_tail as log_tail
from simulators.run.brokers import tcp_open as tcp_open


class ServiceError(RuntimeError):
    """A server could not be started (its log tail is in the message) or answered badly."""


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """The status code of GET url, or None when nothing answers."""
    try:
        return httpx.get(url, timeout=timeout, trust_env=False).status_code
    except httpx.HTTPError:
        return None


def unix_socket_answers(path: Path) -> bool:
    """Something listens on the Unix socket ``path`` (a stale file from a killed process does
    not): how the edge agent's control socket says it is up."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def find_binary(name: str) -> str:
    """The path of a server binary; /usr/sbin is searched even when it is not on PATH."""
    found = which_server(name)
    if found is None:
        raise ServiceError(f"{name} is not installed (run scripts/setup.sh)")
    return found


_running: set[ManagedProcess] = set()


@atexit.register
def _stop_leftovers() -> None:
    """Last resort if a fixture's teardown never ran: stop what this process started."""
    for proc in list(_running):
        with contextlib.suppress(Exception):
            proc.stop()


class ManagedProcess:
    """A server process this test run owns: started in its own session, signalled by PID only.

    stdout and stderr go to `log_path` (appended to across restarts). `start()` returns once
    `ready()` is true, and raises ServiceError quoting the log tail if the process exits first or
    the deadline passes.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        ready: Callable[[], bool],
        *,
        ready_timeout: float = 30.0,
        stop_timeout: float = 15.0,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.ready = ready
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        state = "alive" if self.alive() else "stopped"
        pid = self._popen.pid if self._popen else None
        return f"<ManagedProcess {self.name} pid={pid} {state}>"

    @property
    def pid(self) -> int:
        """The PID of the latest start (still reported after the process has stopped)."""
        if self._popen is None:
            raise ServiceError(f"{self.name} was never started")
        return self._popen.pid

    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def start(self) -> None:
        if self.alive():
            raise ServiceError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                start_new_session=True,
            )
        _running.add(self)
        deadline = time.monotonic() + self.ready_timeout
        while True:
            code = self._popen.poll()
            if code is not None:
                _running.discard(self)
                raise ServiceError(
                    f"{self.name} exited with code {code} before it was ready; "
                    f"{self.log_path} ends with:\n{log_tail(self.log_path)}"
                )
            if self.ready():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ServiceError(
                    f"{self.name} was not ready after {self.ready_timeout:.0f}s; "
                    f"{self.log_path} ends with:\n{log_tail(self.log_path)}"
                )
            time.sleep(0.05)

    def _signal(self, sig: signal.Signals) -> None:
        # Only ever our own child, and only while it has not been reaped (so its PID is ours).
        if self._popen is not None and self._popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._popen.pid, sig)

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM, wait up to `timeout` (default stop_timeout), then SIGKILL."""
        if self._popen is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self._popen.wait(self.stop_timeout if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        _running.discard(self)

    def freeze(self) -> None:
        """SIGSTOP: the process keeps its sockets open but answers nothing (a hung server)."""
        self._signal(signal.SIGSTOP)

    def kill(self) -> None:
        """SIGKILL (a crash: nothing is saved on the way down) and reap."""
        if self._popen is None:
            return
        self._signal(signal.SIGKILL)
        self._popen.wait(10)
        _running.discard(self)

    def restart(self) -> None:
        self.stop()
        self.start()


class Service:
    """What every server here has: host, port, data directory and its process."""

    name = "service"

    def __init__(self, data_dir: Path, port: int) -> None:
        self.host = HOST
        self.port = port
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess(self.name, self.argv(), self.log_path, self.is_ready)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.host}:{self.port} {self.process!r}>"

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"{self.name}.log"

    def argv(self) -> list[str]:
        raise NotImplementedError

    def is_ready(self) -> bool:
        raise NotImplementedError

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.alive()

    def start(self) -> None:
        self.process.start()

    def stop(self) -> None:
        self.process.stop()

    def freeze(self) -> None:
        self.process.freeze()

    def kill(self) -> None:
        self.process.kill()

    def restart(self) -> None:
        """Stop gracefully (data is saved) and start again on the same port and data."""
        self.process.restart()

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.log_path, lines)


# --------------------------------------------------------------------------------- Mosquitto


@dataclass(frozen=True)
class MosquittoAuth:
    """Users (name -> password) and the text of a Mosquitto ACL file."""

    users: dict[str, str]
    acl: str


class MosquittoService(Service):
    name = "mosquitto"

    def __init__(
        self,
        data_dir: Path,
        *,
        auth: MosquittoAuth | None = None,
        persistence: bool = True,
        port: int | None = None,
    ) -> None:
        self.auth = auth
        self.persistence = persistence
        self.conf_path = data_dir / "mosquitto.conf"
        super().__init__(data_dir, port or free_port())
        self._write_config()

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def passwords(self) -> dict[str, str]:
        return dict(self.auth.users) if self.auth else {}

    def argv(self) -> list[str]:
        return [find_binary("mosquitto"), "-c", str(self.conf_path)]

    def is_ready(self) -> bool:
        return tcp_open(self.port)

    def _write_config(self) -> None:
        lines = [
            f"listener {self.port} {self.host}",
            # Run as whoever runs the tests: as root, mosquitto would otherwise switch to the
            # 'mosquitto' user, which cannot write into a pytest tmp directory.
            f"user {pwd.getpwuid(os.geteuid()).pw_name}",
            "log_dest stdout",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "log_timestamp_format %Y-%m-%dT%H:%M:%S",
            # The stock max_queued_messages (1000) makes the broker drop QoS 1 messages silently
            # once a slow or offline persistent subscriber has 1000 queued; tests (and load runs)
            # must see every message, so allow a deep queue and a wider in-flight window.
            "max_queued_messages 100000",
            "max_inflight_messages 100",
        ]
        if self.persistence:
            # Saved on clean shutdown (SIGTERM, so restart() keeps QoS 1 sessions) and every
            # autosave_interval seconds; kill() loses what changed since the last save.
            lines += [
                "persistence true",
                f"persistence_location {self.data_dir}/",
                "autosave_interval 5",
            ]
        else:
            lines.append("persistence false")
        if self.auth is None:
            lines.append("allow_anonymous true")
        else:
            passwd = self.data_dir / "passwd"
            passwd.write_text("".join(f"{u}:{p}\n" for u, p in self.auth.users.items()))
            passwd.chmod(0o600)
            subprocess.run(
                [find_binary("mosquitto_passwd"), "-U", str(passwd)],
                check=True,
                capture_output=True,
            )
            acl = self.data_dir / "acl"
            acl.write_text(self.auth.acl)
            acl.chmod(0o600)
            lines += ["allow_anonymous false", f"password_file {passwd}", f"acl_file {acl}"]
        self.conf_path.write_text("\n".join(lines) + "\n")


def start_mosquitto(
    data_dir: Path, *, auth: MosquittoAuth | None = None, persistence: bool = True
) -> MosquittoService:
    service = MosquittoService(data_dir, auth=auth, persistence=persistence)
    service.start()
    return service


# ---------------------------------------------------------------------------------- InfluxDB


def _influx_ident(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class InfluxDBService(Service):
    """influxd 1.x; its HTTP API at `url`."""

    name = "influxd"

    def __init__(self, data_dir: Path) -> None:
        http_port, self.rpc_port = free_port(), free_port()
        while self.rpc_port == http_port:
            self.rpc_port = free_port()
        self.conf_path = data_dir / "influxdb.conf"
        super().__init__(data_dir, http_port)
        self.process.ready_timeout = 60.0
        self._write_config()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def argv(self) -> list[str]:
        return [find_binary("influxd"), "-config", str(self.conf_path)]

    def is_ready(self) -> bool:
        return http_status(f"{self.url}/ping") == 204

    def _write_config(self) -> None:
        d = self.data_dir
        self.conf_path.write_text(
            f"""\
reporting-disabled = true
bind-address = "{self.host}:{self.rpc_port}"

[meta]
  dir = "{d}/meta"

[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "{self.host}:{self.port}"
  log-enabled = false

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false
"""
        )

    def query(self, db: str, influxql: str, *, epoch: str | None = "ms") -> list[dict[str, object]]:
        """Run InfluxQL; one dict per row: its columns, the series `name` and the series tags.

        Times are integers in `epoch` units (None: RFC 3339 strings).
        """
        params = {"db": db, "q": influxql}
        if epoch:
            params["epoch"] = epoch
        response = httpx.post(f"{self.url}/query", data=params, timeout=30.0, trust_env=False)
        body = response.json() if response.content else {}
        if response.status_code != 200 or "error" in body:
            raise ServiceError(f"InfluxQL {influxql!r} failed: {response.status_code} {body}")
        rows: list[dict[str, object]] = []
        for result in body.get("results", []):
            if "error" in result:
                raise ServiceError(f"InfluxQL {influxql!r} failed: {result['error']}")
            for series in result.get("series", []):
                for values in series.get("values", []):
                    row: dict[str, object] = {"name": series.get("name")}
                    row.update(series.get("tags") or {})
                    row.update(zip(series["columns"], values, strict=True))
                    rows.append(row)
        return rows

    def create_database(self, name: str) -> None:
        self.query(name, f"CREATE DATABASE {_influx_ident(name)}")

    def drop_database(self, name: str) -> None:
        self.query(name, f"DROP DATABASE {_influx_ident(name)}")

    def count(self, db: str, measurement: str, field: str) -> int:
        rows = self.query(
            db, f"SELECT count({_influx_ident(field)}) FROM {_influx_ident(measurement)}"
        )
        return sum(cast(int, row["count"]) for row in rows)

    def write_lines(self, db: str, lines: str, precision: str = "ms") -> None:
        """Write line protocol through /write (1.x API)."""
        response = httpx.post(
            f"{self.url}/write",
            params={"db": db, "precision": precision},
            content=lines.encode(),
            timeout=30.0,
            trust_env=False,
        )
        if response.status_code != 204:
            raise ServiceError(f"write to {db} failed: {response.status_code} {response.text}")


def start_influxdb(data_dir: Path) -> InfluxDBService:
    service = InfluxDBService(data_dir)
    service.start()
    return service


# --------------------------------------------------------------------------- VictoriaMetrics


class VictoriaMetricsService(Service):
    """Single-node VictoriaMetrics.

    It takes InfluxDB line protocol at /write (v1) and /api/v2/write (v2, what influxdb_client's
    WriteApi uses) and stores measurement `m` with field `f` as the metric `m_f`, tags as labels.
    /write?db=x adds the label db="x"; the v2 `bucket` and `org` add no label (1.79). Samples
    older than the retention (1 month) are dropped, so write current timestamps.
    """

    name = "victoria-metrics"

    def __init__(self, data_dir: Path, *, dedup: bool = False) -> None:
        # dedup: run as docs/storage.md recommends, keeping one sample per series and timestamp
        self.dedup = dedup
        super().__init__(data_dir, free_port())

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def argv(self) -> list[str]:
        return [
            find_binary("victoria-metrics"),
            f"-httpListenAddr={self.host}:{self.port}",
            f"-storageDataPath={self.data_dir / 'data'}",
            "-retentionPeriod=1",
            "-loggerLevel=WARN",
            *(["-dedup.minScrapeInterval=1ms"] if self.dedup else []),
        ]

    def is_ready(self) -> bool:
        return http_status(f"{self.url}/health") == 200

    def flush(self) -> None:
        """Flush VictoriaMetrics' in-memory buffers (new samples still take ~1 s to show)."""
        response = httpx.get(f"{self.url}/internal/force_flush", timeout=30.0, trust_env=False)
        response.raise_for_status()

    def export(self, match: str) -> list[dict[str, Any]]:
        """All samples of the series matching `match` (a series selector such as `{db="x"}`):
        one dict per series with `metric` (its labels), `values` and `timestamps` (ms).

        Flushes first, yet a sample written less than about a second ago may still be missing:
        use wait_for_export() to read back what a test has just written.
        """
        self.flush()
        response = httpx.get(
            f"{self.url}/api/v1/export",
            params={"match[]": match},
            timeout=30.0,
            trust_env=False,
        )
        if response.status_code != 200:
            raise ServiceError(f"export {match!r} failed: {response.status_code} {response.text}")
        return [orjson.loads(line) for line in response.content.splitlines() if line.strip()]

    def series_count(self, match: str) -> int:
        return len({tuple(sorted(series["metric"].items())) for series in self.export(match)})

    def wait_for_export(
        self, match: str, *, samples: int = 1, timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        """export(match) once the matching series hold at least `samples` samples in all."""
        deadline = time.monotonic() + timeout
        while True:
            series = self.export(match)
            found = sum(len(s["values"]) for s in series)
            if found >= samples:
                return series
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"{match!r}: {found} of {samples} samples visible after {timeout:.0f}s"
                )
            time.sleep(0.1)


def start_victoriametrics(data_dir: Path, *, dedup: bool = False) -> VictoriaMetricsService:
    service = VictoriaMetricsService(data_dir, dedup=dedup)
    service.start()
    return service

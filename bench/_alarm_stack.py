"""The real alarm path for bench_alarm_latency.py, every part on 127.0.0.1 on free ports.

    field Mosquitto ─▶ `streetwatch edge run` ─▶ uplink Mosquitto ─▶ `streetwatch hub run`
        ─▶ webhook channel ─▶ HTTP receiver (in the benchmark's process)

Two private Mosquitto brokers (the gateway's field broker and the street hub's broker), the
hub and the edge agent as the processes they are in production, each with its own files in the
run's directory; the background gateways (bench/_background.py) as one more process. All are
started in their own sessions by tests/support/services.py and stopped by their PIDs only.

The configs are the shipped defaults except where a run needs otherwise, and each exception is
named here: the edge's sensors report every hour (quiet battery detectors: no offline noise
during a run); the ``gas`` sensors (the "no deliberate delay" ones) raise on one sample and
clear on one sample at once; the hub has one responder with one webhook channel, an admin
token (the benchmark resolves each incident once it was paged, so that the next alarm on the
sensor opens it again) and a fixed API port.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from _support import ManagedProcess, MosquittoService, free_port, unix_socket_answers

ROOT = Path(__file__).resolve().parents[1]

STREETWATCH = str(Path(sys.executable).with_name("streetwatch"))
GATEWAY = "gw-bench-01"
AREA = {"district": "pudong", "street": "huamu", "community": "lianyang"}
RESPONDER = "wang"
QUIET_DEVICE_S = 3600  # battery detectors: on change, plus a heartbeat an hour
NO_DEBOUNCE = {"raise_samples": 1, "clear_samples": 1, "clear_after_s": 0}


@dataclass(frozen=True)
class AlarmSensor:
    id: str
    kind: str  # "smoke" or "gas"
    device: str  # its Zigbee2MQTT friendly name
    building: str  # its own building: every sensor's alarm is an incident of its own
    detection: dict[str, Any] = field(default_factory=dict)  # over the shipped defaults

    def config(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "source": {"ecosystem": "zigbee2mqtt", "device": self.device},
            "placement": {"building": self.building, "floor": 3, "risk_point": "old_building"},
            "report_interval_s": QUIET_DEVICE_S,
        }
        if self.detection:
            data["detection"] = self.detection
        return data


def sensor_pool(smoke: int, gas: int, debounced_gas: int) -> list[AlarmSensor]:
    """``smoke-NN`` (alarm flag), ``gas-NN`` (%LEL, no debounce), ``gasd-NN`` (%LEL, shipped
    debounce), each in a building of its own."""
    out = [
        AlarmSensor(f"smoke-{i:02d}", "smoke", f"b/smoke-{i:02d}", f"s{i:02d}")
        for i in range(smoke)
    ]
    out += [
        AlarmSensor(f"gas-{i:02d}", "gas", f"b/gas-{i:02d}", f"g{i:02d}", NO_DEBOUNCE)
        for i in range(gas)
    ]
    out += [
        AlarmSensor(f"gasd-{i:02d}", "gas", f"b/gasd-{i:02d}", f"d{i:02d}")
        for i in range(debounced_gas)
    ]
    return out


def city() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "examples" / "hub.yaml").read_text())["city"]
    return data


def hub_config(
    state: Path, broker: MosquittoService, api_port: int, page_url: str
) -> dict[str, Any]:
    responder = {
        "id": RESPONDER,
        "name": "王网格",
        "role": "grid_worker",
        "contact": ["hook"],
        **AREA,
    }
    return {
        "hub": {"id": "bench", "state_dir": str(state)},
        "mqtt": {"host": broker.host, "port": broker.port},
        "api": {"port": api_port, "base_url": f"http://127.0.0.1:{api_port}"},
        "notify": {
            "channels": {"hook": {"type": "webhook", "url": page_url}},
            "responders": [responder],
        },
        "city": city(),
    }


def gateway_config(
    field_broker: MosquittoService, uplink: MosquittoService, sensors: list[AlarmSensor]
) -> dict[str, Any]:
    return {
        "gateway": {"id": GATEWAY, "area": AREA},
        "local_broker": {"host": field_broker.host, "port": field_broker.port},
        "uplink": {"host": uplink.host, "port": uplink.port},
        "buffer": {"path": "outbox.sqlite3"},
        "health": {"control_socket": "gw.sock"},
        "sensors": [s.config() for s in sensors],
    }


def _printed(log: Path, word: bytes) -> bool:
    return log.exists() and word in log.read_bytes()


class AlarmStack:
    """Brokers, hub and edge agent (``async with``); ``background()`` adds the street's load."""

    def __init__(
        self,
        run_dir: Path,
        sensors: list[AlarmSensor],
        page_url: str,
        *,
        profile: bool = False,
        broker_nodelay: bool = False,
    ) -> None:
        self.dir = run_dir
        self.profile = profile
        self.broker_nodelay = broker_nodelay
        self.sensors = sensors
        self.page_url = page_url
        self.admin_token = secrets.token_urlsafe(24)
        self.api_port = free_port()
        self._processes: list[ManagedProcess] = []
        self._brokers: list[MosquittoService] = []

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    async def __aenter__(self) -> AlarmStack:
        try:
            await asyncio.to_thread(self._start)
        except BaseException:
            await asyncio.to_thread(self._stop)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self._stop)

    def _start(self) -> None:
        self.field_broker = self._broker("field-broker")
        self.uplink = self._broker("uplink-broker")
        os.environ.update(
            {
                "STREETWATCH_HUB_NOTIFY__CHANNELS__HOOK__SECRET": secrets.token_urlsafe(24),
                "STREETWATCH_HUB_API__ADMIN_TOKEN": self.admin_token,
                "STREETWATCH_HUB_API__LINK_SECRET": secrets.token_urlsafe(32),
            }
        )
        hub_dir = self.dir / "hub"
        hub_dir.mkdir(parents=True)
        hub_file = hub_dir / "hub.yaml"
        data = hub_config(hub_dir / "state", self.uplink, self.api_port, self.page_url)
        hub_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        hub_log = hub_dir / "hub.log"
        self._run(
            ManagedProcess(
                "hub",
                [
                    *self._program(hub_dir),
                    "hub",
                    "run",
                    "-c",
                    str(hub_file),
                    "--log-level",
                    "WARNING",
                ],
                hub_log,
                lambda: _printed(hub_log, b"READY"),
            )
        )
        edge_dir = self.dir / "edge"
        edge_dir.mkdir(parents=True)
        edge_file = edge_dir / "gateway.yaml"
        data = gateway_config(self.field_broker, self.uplink, self.sensors)
        edge_file.write_text(yaml.safe_dump(data), encoding="utf-8")
        self.control_socket = edge_dir / "gw.sock"
        self._run(
            ManagedProcess(
                "edge",
                [
                    *self._program(edge_dir),
                    "edge",
                    "run",
                    "-c",
                    str(edge_file),
                    "--log-level",
                    "WARNING",
                ],
                edge_dir / "edge.log",
                lambda: unix_socket_answers(self.control_socket),
                cwd=edge_dir,
            )
        )

    def background(
        self, gateways: int, sensors: int, multipliers: list[float], reboot_every_s: float = 0.0
    ) -> ManagedProcess:
        """Start the virtual gateways (registered and confirmed when this returns)."""
        log = self.dir / "background.log"
        argv = [
            sys.executable,
            str(ROOT / "bench" / "_background.py"),
            f"--port={self.uplink.port}",
            f"--gateways={gateways}",
            f"--sensors={sensors}",
            f"--multipliers={','.join(f'{m:g}' for m in multipliers)}",
            f"--reboot-every-s={reboot_every_s:g}",
        ]
        process = ManagedProcess(
            "background", argv, log, lambda: _printed(log, b"READY"), ready_timeout=180
        )
        self._run(process)
        return process

    def _program(self, directory: Path) -> list[str]:
        """``streetwatch``, under cProfile (stats in ``<directory>/profile.prof``) if asked."""
        if not self.profile:
            return [STREETWATCH]
        return [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(directory / "profile.prof"),
            STREETWATCH,
        ]

    def profiles(self) -> dict[str, Path]:
        return {
            "hub": self.dir / "hub" / "profile.prof",
            "edge": self.dir / "edge" / "profile.prof",
        }

    def pids(self) -> dict[str, int]:
        """Every process of the run by name, this benchmark's own included."""
        named = {p.name: p.pid for p in self._processes}
        named |= {b.data_dir.name: b.pid for b in self._brokers}
        return {**named, "benchmark": os.getpid()}

    @staticmethod
    def next_phase(process: ManagedProcess) -> None:
        if process.alive():
            os.kill(process.pid, signal.SIGUSR1)

    def _broker(self, name: str) -> MosquittoService:
        """tests/support's Mosquitto; with ``broker_nodelay``, ``set_tcp_nodelay true`` on its
        listener (Mosquitto's default, and deploy/mosquitto's, is Nagle's algorithm on)."""
        broker = MosquittoService(self.dir / name)
        if self.broker_nodelay:
            listener = f"listener {broker.port} {broker.host}\n"
            text = broker.conf_path.read_text()
            broker.conf_path.write_text(text.replace(listener, f"{listener}set_tcp_nodelay true\n"))
        self._brokers.append(broker)
        broker.start()
        return broker

    def _run(self, process: ManagedProcess) -> None:
        self._processes.append(process)
        process.start()

    def _stop(self) -> None:
        for process in reversed(self._processes):
            process.stop()
        for broker in reversed(self._brokers):
            broker.stop()

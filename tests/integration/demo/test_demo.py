"""`streetwatch demo` run as a person runs it: a subprocess that starts real brokers, the hub,
an edge agent per gateway and the simulated responders on this machine.

Its output is not a terminal here, so it prints plain lines (``17:05:10  OPENED  yellow ...``),
which is what these tests read.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from simulators.run.brokers import tcp_open
from simulators.scenarios import load_scenario
from simulators.tape.compile import build_city

STREETWATCH = str(Path(sys.executable).parent / "streetwatch")
SPEED = "120"  # the demo's 90 minutes in 45 s; its story keeps its timing at this speed


def demo(
    *args: str, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STREETWATCH, "demo", *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def lines(output: str, word: str) -> list[str]:
    """The event lines of one kind: ``HH:MM:SS  WORD ...``."""
    return [line for line in output.splitlines() if re.match(rf"\d\d:\d\d:\d\d  {word} ", line)]


@pytest.mark.timeout(150)
def test_the_default_demo_shows_the_whole_story_and_keeps_the_results(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = demo("--speed", SPEED, "--out", str(out), timeout=140)
    assert result.returncode == 0, result.stderr[-3000:]
    text = result.stdout
    city = build_city(load_scenario("demo"), 1)
    for street in (s for d in city.districts for s in d.streets):
        assert any(f"{street.zh} {street.en}" in line for line in lines(text, "STREET")), street.id
    assert any("内涝 flood" in line for line in lines(text, "OPENED"))
    assert any("火灾 fire" in line and "orange → red" in line for line in lines(text, "RAISED"))
    assert any("via webhook" in line for line in lines(text, "PAGE"))
    (escalated,) = [line for line in lines(text, "ESCALATED") if "火灾 fire" in line]
    assert "街道 street office" in escalated
    acks = lines(text, "ACK")
    assert any("(street-" in line and "火灾 fire" in line for line in acks), acks
    assert any("(grid-" in line and "内涝 flood" in line for line in acks), acks
    assert len(lines(text, "RESOLVED")) == 2
    assert "StreetWatch run score" in text
    assert f"Results written to {out}" in text
    score = json.loads((out / "score.json").read_text("utf-8"))
    assert score["summary"]["detected"] == score["summary"]["hazards"] == 2
    for name in ("incidents.json", "pages.json", "truth.jsonl", "run.json", "run.log"):
        assert (out / name).is_file(), name
    run = json.loads((out / "run.json").read_text("utf-8"))
    assert run["scenario"] == "demo"
    assert run["lag_s"] < 60, "the machine fell too far behind to tell the story"


@pytest.mark.timeout(120)
def test_amqtt_when_there_is_no_mosquitto(tmp_path: Path) -> None:
    args = ["--embedded-broker", "amqtt", "--scenario", "kitchen-fire", "--speed", "150"]
    result = demo(*args, "--out", str(tmp_path / "amqtt"), timeout=110)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "broker amqtt" in result.stdout
    assert any("火灾 fire" in line for line in lines(result.stdout, "OPENED"))
    assert any("火灾 fire" in line for line in lines(result.stdout, "PAGE"))


def children(pid: int) -> list[int]:
    """The running processes whose parent is ``pid`` (from /proc; zombies do not count)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def broker_ports(work: Path) -> list[int]:
    """The ports the run's brokers listen on, from their config files."""
    confs = work.glob("*-broker/mosquitto.conf")
    return [int(m[1]) for c in confs for m in re.finditer(r"^listener (\d+)", c.read_text(), re.M)]


@pytest.mark.timeout(90)
def test_ctrl_c_stops_everything_it_started(tmp_path: Path) -> None:
    out = tmp_path / "interrupted"
    process = subprocess.Popen(
        [STREETWATCH, "demo", "--speed", "60", "--embedded-broker", "mosquitto", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    printed: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in process.stdout or ():
            printed.put(line)
        printed.put(None)  # it ended

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 60
    opened = re.compile(r"\d\d:\d\d:\d\d  OPENED ")
    while not opened.match(line := printed.get(timeout=deadline - time.monotonic()) or ""):
        if not line:  # it ended before an incident opened: say why
            stderr = process.stderr.read() if process.stderr else ""
            pytest.fail(f"the demo ended ({process.wait(30)}) before it ran: {stderr[-3000:]}")
    started = children(process.pid)
    ports = broker_ports(out / "work")
    assert len(started) == len(ports) == 2  # the local and the hub broker
    assert all(tcp_open(port) for port in ports)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in its terminal does
    began = time.monotonic()
    assert process.wait(timeout=20) == 130
    assert time.monotonic() - began < 10
    stderr = process.stderr.read() if process.stderr else ""
    assert "Traceback" not in stderr
    assert f"partial data (truth, hub database, logs) in {out}" in stderr
    assert [pid for pid in started if Path(f"/proc/{pid}").exists()] == []
    assert [port for port in ports if tcp_open(port)] == []
    assert (out / "truth.jsonl").is_file()

"""The cheapest bridge there can be: what the rest of the pipeline costs without a real one.

Not StreetWatch, and not a bridge anyone should run: a yardstick. ``bench_ingest.py`` starts it
as the ``floor_influx1`` system. It receives the load generator's messages with Mosquitto's own C
client (``mosquitto_sub``, QoS 1: the broker does for it what it does for the hub) and reads only
each message's topic; for each it writes, with no parsing or checking at all, 50 precomputed lines
of line protocol into InfluxDB 1.x, shaped as the hub's ``water_level`` points (the same
measurement, six tags, one float field, millisecond times), 5,000 lines per write, or whatever is
waiting every 0.2 s, as the hub does.

So a step of it shows what the load generator, Mosquitto and InfluxDB take at a rate when the
bridge's own work is as near nothing as it gets: if those alone fill the machine at a rate, no
bridge, in any language, can sustain that rate here. Its own CPU (``mosquitto_sub`` included:
the harness counts a bridge's children) is in the ``cores`` column like any system's.

Plain standard library on purpose: it must cost nothing, and it runs from either venv.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.parse

TOPIC = re.compile(rb"^sw/v1/([^/]+)/([^/]+)/gw(\d+)/data$")
BATCH_LINES = 5000
FLUSH_S = 0.2


def prefixes(district: bytes, street: bytes, gw: int, sensors: int) -> list[bytes]:
    """The series key and field name of each gauge of a gateway, as the hub writes them."""
    return [
        b"water_level,community=c%d,district=%s,gateway=gw%03d,quality=good,sensor=gw%03d-s%03d,"
        b"street=%s depth=%d.5 " % (gw, district, gw, gw, s, street, 150 + s)
        for s in range(sensors)
    ]


class Writer:
    def __init__(self, port: int, database: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.path = "/write?" + urllib.parse.urlencode({"db": database, "precision": "ms"})
        self.parts: list[bytes] = []
        self.lines = 0
        self.since = time.monotonic()
        self.query(f'CREATE DATABASE "{database}"')

    def query(self, q: str) -> None:
        self.conn.request("POST", "/query?" + urllib.parse.urlencode({"q": q}))
        self.conn.getresponse().read()

    def add(self, block: bytes, lines: int) -> None:
        if not self.parts:
            self.since = time.monotonic()
        self.parts.append(block)
        self.lines += lines
        if self.lines >= BATCH_LINES:
            self.flush()

    def flush(self) -> None:
        if not self.parts:
            return
        body = b"".join(self.parts)
        self.parts, self.lines = [], 0
        self.conn.request("POST", self.path, body, {"Content-Type": "text/plain"})
        response = self.conn.getresponse()
        response.read()
        if response.status != 204:
            sys.exit(f"floor bridge: InfluxDB said {response.status}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mqtt-port", type=int, required=True)
    ap.add_argument("--influx-port", type=int, required=True)
    ap.add_argument("--database", required=True)
    ap.add_argument("--sensors", type=int, default=50)
    args = ap.parse_args()
    writer = Writer(args.influx_port, args.database)
    sub = subprocess.Popen(
        ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(args.mqtt_port), "-q", "1", "-t", "sw/v1/#",
         "-F", "%t", "-i", f"floor-{os.getpid()}"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert sub.stdout is not None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    keys: dict[bytes, list[bytes]] = {}
    counters: dict[bytes, int] = {}
    base = int(time.time() * 1000)
    time.sleep(0.5)  # the subscription is in place before the harness starts publishing
    print("READY", flush=True)
    pending = b""
    fd = sub.stdout.fileno()
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], FLUSH_S)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                *topics, pending = (pending + chunk).split(b"\n")
                for topic in topics:
                    lines = keys.get(topic)
                    if lines is None:
                        m = TOPIC.match(topic)
                        if m is None:
                            continue
                        lines = prefixes(m[1], m[2], int(m[3]), args.sensors)
                        keys[topic] = lines
                    n = counters.get(topic, 0)
                    counters[topic] = n + 1
                    stamp = b"%d\n" % (base + n)
                    writer.add(stamp.join(lines) + stamp, len(lines))
            if writer.parts and time.monotonic() - writer.since >= FLUSH_S:
                writer.flush()
    finally:
        writer.flush()
        sub.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())

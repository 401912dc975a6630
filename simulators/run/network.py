"""A gateway's uplink (4G, fibre) as a TCP relay on 127.0.0.1 that a scenario can cut.

The gateway connects to the relay instead of the hub broker. `cut()` aborts every connection
at once, so both ends see the TCP connection drop as when a fibre is cut: the broker publishes
the gateway's will, the gateway starts reconnecting. While cut, the relay does not listen, so a
reconnect is refused at once. (A real cut makes a connect time out; the MQTT clients' connect
timeouts run on real time, so at 120× a 10 s timeout would stretch to 20 simulated minutes.)
`restore()` listens again on the same port. A relay can be cut for several reasons at once (the
uplink is down *and* the hub's broker restarts): it comes back when the last one is restored.
Simulations stay on 127.0.0.1: a target that is not a loopback address is refused.
"""

from __future__ import annotations

import asyncio
import ipaddress

from streetwatch.component import Component

CHUNK = 65_536


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name other than localhost
        return False


class UplinkRelay(Component):
    """Relays TCP connections from `.port` on 127.0.0.1 to the target broker until cut."""

    def __init__(self, target_host: str, target_port: int, *, name: str = "") -> None:
        if not _is_loopback(target_host):
            raise ValueError(
                f"uplink relay target {target_host!r} is not a loopback address: "
                "simulations stay on 127.0.0.1"
            )
        self.target_host = target_host
        self.target_port = target_port
        self.name = name or f"uplink-{target_port}"
        self.connections = 0  # accepted and relayed
        self.refused = 0  # connections that raced a cut, aborted
        self.bytes_up = 0  # gateway → broker
        self.bytes_down = 0  # broker → gateway
        self._cuts: set[str] = set()
        self._open: set[asyncio.StreamWriter] = set()
        self._port: int | None = None
        self._server: asyncio.Server | None = None

    def __repr__(self) -> str:
        state = f"cut ({', '.join(sorted(self._cuts))})" if self._cuts else "up"
        return f"<UplinkRelay {self.name!r} → {self.target_host}:{self.target_port} {state}>"

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("UplinkRelay is not running: use `async with`")
        return self._port

    @property
    def is_cut(self) -> bool:
        return bool(self._cuts)

    def cut(self, reason: str = "uplink") -> None:
        """Abort every open connection and stop listening until ``restore(reason)``."""
        self._cuts.add(reason)
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()

    async def restore(self, reason: str = "uplink") -> None:
        """Undo ``cut(reason)``; listen again once nothing else keeps the relay cut."""
        self._cuts.discard(reason)
        if not self._cuts and self._server is None:
            await self._listen()

    async def start(self) -> None:
        await self._listen()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self._port or 0, reuse_address=True
        )
        self._port = self._server.sockets[0].getsockname()[1]

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cuts:
            self.refused += 1
            writer.transport.abort()
            return
        try:
            self.spawn(self._connect(reader, writer), f"{self.name}.connect")
        except RuntimeError:  # the relay is closing
            writer.transport.abort()

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            broker_r, broker_w = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:  # the broker is down: the gateway sees its connection drop
            writer.transport.abort()
            return
        except asyncio.CancelledError:  # the relay is closing
            writer.transport.abort()
            raise
        if self._cuts:  # cut while connecting
            self.refused += 1
            broker_w.transport.abort()
            writer.transport.abort()
            return
        self.connections += 1
        self._open |= {writer, broker_w}
        self.spawn(self._pump(reader, broker_w, upstream=True), f"{self.name}.up")
        self.spawn(self._pump(broker_r, writer, upstream=False), f"{self.name}.down")

    async def _pump(
        self, source: asyncio.StreamReader, dest: asyncio.StreamWriter, *, upstream: bool
    ) -> None:
        """Copy until the source ends or fails, then close the destination (and so the pair)."""
        try:
            while data := await source.read(CHUNK):
                if upstream:
                    self.bytes_up += len(data)
                else:
                    self.bytes_down += len(data)
                dest.write(data)
                await dest.drain()
        except OSError:  # reset, or aborted by cut()
            pass
        finally:
            self._open.discard(dest)
            dest.close()

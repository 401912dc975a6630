"""The brokers a run can use besides a private Mosquitto, and the choice between them.

A run needs two MQTT brokers (the gateways' local one and the hub's). ``BrokerKind`` says how to
make one and what it can do; ``choose_broker`` picks the kind for ``streetwatch demo``:

* ``MOSQUITTO``: ``brokers.Broker``, a private Mosquitto (the simulators' usual broker).
* ``AMQTT``: ``AmqttBroker``, the pure-Python amqtt broker in a child process of its own (so it
  uses the second core and is stopped by its PID like Mosquitto), for a machine with nothing but
  Python. amqtt speaks MQTT 3.1.1 only (``mqtt5=False``); QoS 1, retained messages, wills and
  persistent sessions work, but a restart forgets the sessions and the retained messages.
* ``external(host, port)``: ``ExternalBroker``, a broker somebody else runs. The run then keeps
  to a topic prefix of its own (``shared=True``) and never restarts it (``restartable=False``).

The child process is this module run as a program: ``python -m simulators.run.embedded_broker
--bind 127.0.0.1:PORT --log FILE``. Every client is let in without being marked anonymous (amqtt
drops an anonymous client's persistent session, so it would lose the queued QoS 1 messages).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol, Self

import aiomqtt
from amqtt.broker import Broker as Amqtt  # type: ignore[import-untyped]
from amqtt.plugins.base import BaseAuthPlugin  # type: ignore[import-untyped]
from amqtt.session import Session  # type: ignore[import-untyped]

from simulators.run.brokers import (
    MISSING_MOSQUITTO,
    Broker,
    BrokerError,
    ChildBroker,
    StartStop,
    find_binary,
    free_port,
    tcp_open,
)

__all__ = [
    "AMQTT",
    "MOSQUITTO",
    "AmqttBroker",
    "BrokerKind",
    "EmbeddedChoice",
    "ExternalBroker",
    "RunBroker",
    "choose_broker",
    "clear_retained",
    "external",
]

EmbeddedChoice = Literal["auto", "mosquitto", "amqtt"]


class RunBroker(Protocol):
    """What a run needs of a broker: ``Broker``, ``AmqttBroker`` and ``ExternalBroker``."""

    host: str
    name: str

    @property
    def port(self) -> int: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class BrokerKind:
    """How a run gets its brokers: ``make(data_dir, name)``, and what they can do."""

    name: str  # mosquitto, amqtt, or host:port
    make: Callable[[Path, str], RunBroker]
    mqtt5: bool  # the hub speaks MQTT 5 where it can
    restartable: bool  # a scenario's broker_restart can be played
    shared: bool  # other clients use it: the run keeps to a topic prefix of its own


class AmqttBroker(ChildBroker):
    """One amqtt broker in a child process on 127.0.0.1 (this module's ``main``)."""

    program = "amqtt"
    log_name = "amqtt.log"

    async def start(self) -> None:
        """Start the child process and return once it accepts TCP connections."""
        self._check_not_running()
        self._port = self._port or free_port()
        await self._launch(sys.executable, "-m", __name__, "--bind", f"{self.host}:{self._port}",
                           "--log", str(self.log_path))  # fmt: skip


class ExternalBroker(StartStop):
    """A broker somebody else runs: ``start`` checks that it answers, ``stop`` leaves it be."""

    def __init__(self, host: str, port: int, *, name: str = "broker") -> None:
        self.host, self._port, self.name = host, port, name

    def __repr__(self) -> str:
        return f"<ExternalBroker {self.name} {self.host}:{self._port}>"

    @property
    def port(self) -> int:
        return self._port

    async def start(self) -> None:
        if not await asyncio.to_thread(tcp_open, self._port, self.host):
            raise BrokerError(
                f"no MQTT broker answers on {self.host}:{self._port}: check that it runs and "
                "that this machine may connect to it, or leave out --broker to use an embedded one"
            )

    async def stop(self) -> None:
        pass


async def clear_retained(host: str, port: int, prefix: str, quiet_s: float = 0.5) -> int:
    """Delete the retained messages under ``prefix/`` (what a run leaves on a shared broker:
    births, wills, incident boards): those that arrive until ``quiet_s`` passes without one."""
    topics: set[str] = set()
    async with aiomqtt.Client(host, port, identifier=f"{prefix}-cleanup") as client:
        await client.subscribe(f"{prefix}/#")
        with contextlib.suppress(TimeoutError):
            while True:
                async with asyncio.timeout(quiet_s):
                    message = await anext(client.messages)
                if message.retain and message.payload:
                    topics.add(str(message.topic))
        for topic in topics:
            await client.publish(topic, b"", qos=1, retain=True)
    return len(topics)


MOSQUITTO = BrokerKind(
    "mosquitto", lambda d, n: Broker(d, name=n), mqtt5=True, restartable=True, shared=False
)
AMQTT = BrokerKind(
    "amqtt", lambda d, n: AmqttBroker(d, name=n), mqtt5=False, restartable=True, shared=False
)


def external(host: str, port: int) -> BrokerKind:
    """Both of a run's brokers are the one at ``host:port``."""
    return BrokerKind(
        f"{host}:{port}",
        lambda _d, n: ExternalBroker(host, port, name=n),
        mqtt5=True,
        restartable=False,
        shared=True,
    )


def choose_broker(
    embedded: EmbeddedChoice = "auto", broker: tuple[str, int] | None = None
) -> BrokerKind:
    """The given ``broker``, else Mosquitto when installed (or asked for), else amqtt."""
    if broker is not None:
        return external(*broker)
    if embedded == "auto":
        return MOSQUITTO if find_binary("mosquitto") else AMQTT
    if embedded == "mosquitto" and find_binary("mosquitto") is None:
        raise BrokerError(MISSING_MOSQUITTO + "; or use --embedded-broker amqtt")
    return MOSQUITTO if embedded == "mosquitto" else AMQTT


# -- the child process ----------------------------------------------------------------------------


class AnyClient(BaseAuthPlugin):  # type: ignore[misc]
    """Lets every client in as a known one (see the module doc)."""

    async def authenticate(self, *, session: Session) -> bool:
        return True


async def _serve(host: str, port: int) -> None:
    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "plugins": {f"{__name__}.AnyClient": {}},
    }
    broker = Amqtt(config)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await broker.start()
    await stopping.wait()
    await broker.shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="An amqtt broker for a simulation run.")
    parser.add_argument("--bind", required=True, help="host:port")
    parser.add_argument("--log", required=True, type=Path)
    args = parser.parse_args(argv)
    host, _, port = args.bind.rpartition(":")
    logging.basicConfig(
        filename=args.log, level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s"
    )
    asyncio.run(_serve(host, int(port)))


if __name__ == "__main__":
    main()

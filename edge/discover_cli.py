"""`streetwatch edge discover`: list the devices publishing on the local broker.

Listens for a while to every ecosystem's tree (and to everything, for plain JSON publishers),
prints a table of the devices seen on stderr and a ``sensors:`` block for gateway.yaml on
stdout, so ``streetwatch edge discover > sensors.yaml`` keeps just the YAML.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import aiomqtt
import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from edge.discover import Discovery, render_sensors_yaml, subscriptions

PASSWORD_ENV = "STREETWATCH_EDGE_LOCAL_BROKER__PASSWORD"
_PORTS = {"mqtt": 1883, "mqtts": 8883}


def parse_broker_url(url: str) -> tuple[str, int, bool]:
    """(host, port, tls) of ``mqtt://host:port`` or ``mqtts://host:port``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise click.BadParameter(f"{url!r}: {exc}", param_hint="--broker") from None
    if parts.scheme not in _PORTS or not parts.hostname:
        raise click.BadParameter(
            f"{url!r} is not mqtt://HOST:PORT or mqtts://HOST:PORT", param_hint="--broker"
        )
    return parts.hostname, port or _PORTS[parts.scheme], parts.scheme == "mqtts"


async def collect(
    connect: Callable[[], aiomqtt.Client], seconds: float, discovery: Discovery
) -> Discovery:
    """Feed ``discovery`` with every message received within ``seconds``.

    ``connect`` builds the client inside the running loop (aiomqtt binds to it when built).
    """
    async with connect() as client:
        for topic_filter in subscriptions(discovery.root):
            await client.subscribe(topic_filter)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                async for message in client.messages:
                    if isinstance(message.payload, bytes):
                        discovery.observe(message.topic.value, message.payload)
    return discovery


def devices_table(discovery: Discovery) -> Table:
    guesses = discovery.guesses
    table = Table(title=f"{len(guesses)} devices seen ({discovery.messages} messages)")
    for column in ("ecosystem", "device", "kind", "confidence", "fields"):
        table.add_column(column, overflow="fold")  # ids are copied from here: never cut them
    for g in guesses:
        kind = g.kind.value if g.kind else ("/".join(g.candidates) + "?" if g.candidates else "?")
        table.add_row(
            Text(g.ecosystem.value),
            Text(g.device),
            Text(kind),
            Text(f"{g.confidence:.2f}"),
            Text(", ".join(g.fields) or "(availability only)"),
        )
    return table


@click.command(name="discover")
@click.option(
    "--broker",
    default="mqtt://127.0.0.1:1883",
    show_default=True,
    help="The gateway's local broker, mqtt://HOST:PORT (mqtts:// for TLS).",
)
@click.option(
    "--seconds",
    type=click.FloatRange(0, 3600, min_open=True),
    default=30,
    show_default=True,
    help="How long to listen. Battery devices may report only every few minutes.",
)
@click.option(
    "--username", default=None, help=f"MQTT user name; the password is read from {PASSWORD_ENV}."
)
@click.option("--topic-root", default="", hidden=True, help="Prefix before every root (tests).")
def command(broker: str, seconds: float, username: str | None, topic_root: str) -> None:
    """List the devices publishing on the local broker and print a sensors: block for them."""
    host, port, tls = parse_broker_url(broker)
    password = os.environ.get(PASSWORD_ENV)

    def connect() -> aiomqtt.Client:
        return aiomqtt.Client(
            host,
            port,
            username=username,
            password=password,
            identifier=f"streetwatch-discover-{uuid.uuid4().hex[:8]}",
            tls_context=ssl.create_default_context() if tls else None,
        )

    err = Console(stderr=True, highlight=False)
    err.print(f"Listening on {broker} for {seconds:g} s ...", markup=False)
    try:
        discovery = asyncio.run(collect(connect, seconds, Discovery(topic_root)))
    except aiomqtt.MqttError as exc:
        raise click.ClickException(
            f"cannot listen on {broker}: {exc}. Check --broker, --username and {PASSWORD_ENV}"
        ) from None
    err.print(devices_table(discovery))
    click.echo(render_sensors_yaml(discovery.guesses), nl=False)

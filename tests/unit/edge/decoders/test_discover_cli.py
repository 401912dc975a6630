"""`discover` as a command: options, broker URLs and what it says when the broker is away."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from support.services import free_port

from edge.discover_cli import command, parse_broker_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1:1883", ("127.0.0.1", 1883, False)),
        ("mqtt://gateway.local", ("gateway.local", 1883, False)),
        ("mqtts://broker:8884", ("broker", 8884, True)),
        ("mqtts://broker", ("broker", 8883, True)),
    ],
)
def test_broker_urls(url: str, expected: tuple[str, int, bool]) -> None:
    assert parse_broker_url(url) == expected


@pytest.mark.parametrize("url", ["http://x", "127.0.0.1:1883", "mqtt://", "mqtt://h:99999"])
def test_bad_broker_urls(url: str) -> None:
    with pytest.raises(click.BadParameter):
        parse_broker_url(url)


def test_help_hides_the_test_option() -> None:
    result = CliRunner().invoke(command, ["--help"])
    assert result.exit_code == 0
    assert "--broker" in result.output
    assert "--topic-root" not in result.output


def test_unreachable_broker_is_a_clear_error() -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(command, ["--broker", url, "--seconds", "1"])
    assert result.exit_code == 1
    assert f"cannot listen on {url}" in result.output
    assert "STREETWATCH_EDGE_LOCAL_BROKER__PASSWORD" in result.output

"""`streetwatch demo` options: the broker, the store, and which errors a person gets to read."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from demo.cli import _for_people, _host_port, _storage, command
from simulators.run.brokers import BrokerError
from simulators.run.embedded_broker import AMQTT, choose_broker


def test_broker_choices() -> None:
    assert choose_broker("amqtt") is AMQTT
    assert not AMQTT.mqtt5
    given = choose_broker("auto", ("broker.lan", 1883))
    assert (given.name, given.shared, given.restartable) == ("broker.lan:1883", True, False)
    assert _host_port("127.0.0.1:1883") == ("127.0.0.1", 1883)
    for bad in ("1883", "host:", "host:99999"):
        with pytest.raises(click.BadParameter):
            _host_port(bad)


def test_the_store_is_sqlite_influxdb_1_or_2_with_a_token() -> None:
    assert _storage(None, "streetwatch", "o", None) is None
    v1 = _storage("http://127.0.0.1:8086", "demo", "o", None)
    assert v1 is not None
    assert v1["backend"] == "influxdb_v1"
    assert v1["influxdb_v1"]["database"] == "demo"
    v2 = _storage("http://127.0.0.1:8086", "demo", "org", "tok")
    assert v2 is not None
    assert v2["backend"] == "influxdb_v2"
    assert v2["influxdb_v2"] == {"url": "http://127.0.0.1:8086", "org": "org", "bucket": "demo",
                                 "token": "tok"}  # fmt: skip


def test_errors_for_people_are_found_inside_task_groups() -> None:
    broker = BrokerError("mosquitto is not installed")
    assert _for_people(ExceptionGroup("a", [ExceptionGroup("b", [broker])])) is broker
    assert _for_people(ExceptionGroup("a", [ValueError("a bug")])) is None


def test_an_unknown_scenario_is_one_line_not_a_traceback() -> None:
    result = CliRunner().invoke(command, ["--scenario", "no-such-scenario"])
    assert result.exit_code == 1
    assert "no such scenario; the shipped ones are:" in result.output
    assert "Traceback" not in result.output

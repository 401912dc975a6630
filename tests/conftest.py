"""Shared fixtures: real servers (one of each per test session) and per-test topic prefixes.

Tests under tests/integration are marked `integration` automatically, so
`pytest -m 'not integration'` runs the unit tests only.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.services import (
    InfluxDBService,
    MosquittoAuth,
    MosquittoService,
    VictoriaMetricsService,
    start_influxdb,
    start_mosquitto,
    start_victoriametrics,
)

INTEGRATION_DIR = Path(__file__).parent / "integration"

GATEWAY_USERS = ("gw-a", "gw-b")
HUB_USER = "hub"

# Topics are sw/v1/<district>/<street>/<gateway>/...; every rule also has a `+/` form so that a
# test's topic_prefix may come first. `pattern` rules apply to every user, %u being its name.
STREETWATCH_ACL = """\
# Gateways: publish only under their own subtree, read only the commands addressed to them.
pattern write sw/v1/+/+/%u/#
pattern write +/sw/v1/+/+/%u/#
pattern read sw/v1/+/+/%u/cmd/#
pattern read +/sw/v1/+/+/%u/cmd/#

# The hub: read everything, write commands to any gateway and street incidents.
user hub
topic read sw/v1/#
topic read +/sw/v1/#
topic write sw/v1/+/+/+/cmd/#
topic write +/sw/v1/+/+/+/cmd/#
topic write sw/v1/+/+/incident
topic write +/sw/v1/+/+/incident
"""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: needs real services started by the fixtures in tests/conftest.py"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(INTEGRATION_DIR):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoService]:
    """An anonymous Mosquitto broker with persistence; `.url` is mqtt://127.0.0.1:PORT."""
    service = start_mosquitto(tmp_path_factory.mktemp("mosquitto"))
    yield service
    service.stop()


@pytest.fixture(scope="session")
def mosquitto_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoService]:
    """A broker with users gw-a, gw-b and hub and the StreetWatch ACL (STREETWATCH_ACL).

    Passwords are in `.passwords[username]`; anonymous clients are refused.
    """
    users = {name: secrets.token_urlsafe(12) for name in (*GATEWAY_USERS, HUB_USER)}
    service = start_mosquitto(
        tmp_path_factory.mktemp("mosquitto-auth"),
        auth=MosquittoAuth(users=users, acl=STREETWATCH_ACL),
    )
    yield service
    service.stop()


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxDBService]:
    """influxd 1.x; create a database per test (e.g. named after topic_prefix)."""
    service = start_influxdb(tmp_path_factory.mktemp("influxdb"))
    yield service
    service.stop()


@pytest.fixture(scope="session")
def victoriametrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetricsService]:
    """Single-node VictoriaMetrics with the InfluxDB write APIs at /write and /api/v2/write."""
    service = start_victoriametrics(tmp_path_factory.mktemp("victoriametrics"))
    yield service
    service.stop()


@pytest.fixture
def topic_prefix() -> str:
    """A prefix unique to this test, like `t-1f2e3d4c`.

    Prepend it to every topic (`f"{topic_prefix}/sw/v1/..."`) so runs never collide, on the
    shared brokers or with retained messages and persistent sessions left by earlier tests.
    """
    return f"t-{uuid.uuid4().hex[:8]}"

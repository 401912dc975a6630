"""The compose stack as the tests read it: docker-compose.yml, deploy/.env.example, and each
service's environment as docker compose would give it (without docker).

``interpolate`` does what docker compose does to ``${VAR}``, ``${VAR:-default}``,
``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}`` and ``$$`` in a value, reading the
variables of ``.env.example``; a required variable that is missing fails like compose does.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
DEPLOY = ROOT / "deploy"
ENV_EXAMPLE = DEPLOY / ".env.example"
DOCS = ROOT / "docs" / "deploy.md"
GATEWAY_CONFIGS = DEPLOY / "gateways"
HUB_CONFIG = DEPLOY / "hub" / "hub.yaml"

_VARIABLE = re.compile(
    r"\$(?:\$|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(Exception):
    """A required ``${VAR:?...}`` with no value: docker compose would refuse to start."""


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def env_example() -> dict[str, str]:
    """The variables of .env.example (KEY=VALUE lines; comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f".env.example: not KEY=VALUE: {line!r}"
            values[key.strip()] = value.strip()
    return values


def interpolate(value: str, env: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match["braced"] or match["bare"]
        if name is None:
            return "$"
        op, arg, have = match["op"], match["arg"] or "", env.get(name)
        empty = have is None or (have == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if empty else str(have)
        if op in (":?", "?") and empty:
            raise MissingVariable(f"{name}: {arg}")
        return have or ""

    return _VARIABLE.sub(one, value)


def variables_used(value: Any) -> set[str]:
    """Every variable a compose value (or a whole document) refers to."""
    if isinstance(value, dict):
        return set().union(*(variables_used(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(variables_used(v) for v in value))
    if isinstance(value, str):
        return {m["braced"] or m["bare"] for m in _VARIABLE.finditer(value) if m[0] != "$$"}
    return set()


def environment(service: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The service's environment, interpolated with ``env`` (default: .env.example)."""
    env = env_example() if env is None else env
    raw = services()[service].get("environment", {})
    assert isinstance(raw, dict), f"{service}: write environment as a mapping"
    return {str(k): interpolate(str(v), env) for k, v in raw.items()}


def command(service: str, env: Mapping[str, str] | None = None) -> list[str]:
    env = env_example() if env is None else env
    raw = services()[service]["command"]
    assert isinstance(raw, list), f"{service}: write the command as a list"
    return [interpolate(str(part), env) for part in raw]


def gateway_services() -> dict[str, dict[str, Any]]:
    """The edge gateways: services running ``edge run``."""
    return {n: s for n, s in services().items() if s.get("command", [])[:2] == ["edge", "run"]}


def mounts(service: str) -> dict[str, str]:
    """Container path → host path (``./...``) or volume name, of the service's volumes."""
    out: dict[str, str] = {}
    for item in services()[service].get("volumes", []):
        source, target, *_ = str(item).split(":")
        out[target] = source
    return out


def mqtt_password_variable(user: str) -> str:
    """The variable deploy/mosquitto/write-passwords.sh reads for ``user``'s password."""
    return "STREETWATCH_MQTT_PASSWORD_" + user.upper().replace("-", "_")


def generator() -> ModuleType:
    """deploy/simulator/generate.py, imported from its file (deploy/ is not a package)."""
    path = DEPLOY / "simulator" / "generate.py"
    spec = importlib.util.spec_from_file_location("deploy_generate", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

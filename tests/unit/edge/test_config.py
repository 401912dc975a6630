"""gateway.yaml: the example passes, and each installer mistake is reported with its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from edge.cli import group as edge_cli
from edge.config import GatewayConfig
from streetwatch.config import ConfigError, load_config, load_config_text
from streetwatch.levels import Level

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

HEAD = """\
gateway:
  id: gw-1
  area: {district: pd, street: hm, community: ly}
uplink: {host: 127.0.0.1}
sensors:
"""


def problems(sensors_yaml: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_config_text(GatewayConfig, HEAD + sensors_yaml, "gw.yaml")
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def test_example_gateway_passes() -> None:
    config = load_config(GatewayConfig, EXAMPLES / "gateway.yaml")
    assert config.gateway.id == "gw-lianyang-01"
    assert {s.kind.value for s in config.sensors} >= {"smoke", "water_level", "hydrant", "gas"}
    garage = config.sensor("water-garage-b5")
    (rule,) = garage.threshold_rules()
    levels = {step.level: step.value for step in rule.steps}
    assert levels == {Level.BLUE: 10, Level.YELLOW: 20, Level.ORANGE: 30, Level.RED: 50}


def test_check_config_command_on_example_and_on_errors(tmp_path: Path) -> None:
    ok = CliRunner().invoke(edge_cli, ["check-config", str(EXAMPLES / "gateway.yaml")])
    assert ok.exit_code == 0, ok.output
    assert "7 sensor(s)" in ok.output
    bad = tmp_path / "gw.yaml"
    bad.write_text(HEAD + "  - {id: s1, kind: lava, source: {ecosystem: json, device: a}}\n")
    result = CliRunner().invoke(edge_cli, ["check-config", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:6: sensors[0].kind:" in result.output
    assert "not deployable" in result.output


@pytest.mark.parametrize(
    ("sensors", "line", "field", "words"),
    [
        (
            "  - {id: s1, kind: lava, source: {ecosystem: json, device: a}}\n",
            6,
            "sensors[0].kind",
            "'smoke'",
        ),
        (
            "  - {id: s1, kind: smoke, source: {ecosystem: json, device: a}}\n"
            "  - {id: s1, kind: gas, source: {ecosystem: json, device: b}}\n",
            7,
            "sensors[1].id",
            "already used by sensors[0]",
        ),
        (
            "  - {id: s1, kind: smoke, source: {ecosystem: zigbee2mqtt, device: k}}\n"
            "  - {id: s2, kind: gas, source: {ecosystem: zigbee2mqtt, device: k}}\n",
            7,
            "sensors[1].source.device",
            "one device feeds one sensor",
        ),
        (
            "  - id: w1\n"
            "    kind: water_level\n"
            "    source: {ecosystem: json, device: a}\n"
            "    thresholds:\n"
            "      - {metric: depth, levels: {red: 900}}\n",
            10,
            "sensors[0].thresholds[0].levels",
            "outside the physical range",
        ),
        (
            "  - id: w1\n"
            "    kind: water_level\n"
            "    source: {ecosystem: json, device: a}\n"
            "    thresholds:\n"
            "      - {metric: depth, levels: {yellow: 10}}\n",
            10,
            "sensors[0].thresholds[0].levels",
            "out of order",
        ),
        (
            "  - id: h1\n"
            "    kind: hydrant\n"
            "    source: {ecosystem: json, device: a}\n"
            "    thresholds:\n"
            "      - {metric: pressure, levels: {yellow: 0.2}}\n",
            10,
            "sensors[0].thresholds[0].direction",
            "rising and falling",
        ),
        (
            "  - id: h1\n"
            "    kind: hydrant\n"
            "    source: {ecosystem: json, device: a}\n"
            "    thresholds:\n"
            "      - {metric: tilt, direction: falling, levels: {yellow: 20}}\n",
            10,
            "sensors[0].thresholds[0].direction",
            "no falling thresholds",
        ),
        (
            "  - id: g1\n"
            "    kind: gas\n"
            "    source:\n"
            "      ecosystem: json\n"
            "      device: a\n"
            "      fields: [{path: x, metric: lel, unit: bar}]\n",
            11,
            "sensors[0].source.fields[0].unit",
            "ppm",
        ),
        (
            "  - {id: s1, kind: smoke, offline_after_s: 10,\n"
            "     source: {ecosystem: json, device: a}}\n",
            6,
            "sensors[0].offline_after_s",
            "longer than the report interval",
        ),
        (
            "  - {id: S 1, kind: smoke, source: {ecosystem: json, device: a}}\n",
            6,
            "sensors[0].id",
            "contains ' '",
        ),
    ],
)
def test_installer_mistakes_name_line_and_field(
    sensors: str, line: int, field: str, words: str
) -> None:
    found = problems(sensors)
    assert any(ln == line and f == field and words in msg for ln, f, msg in found), found


def test_all_problems_reported_at_once() -> None:
    found = problems(
        "  - {id: s1, kind: lava, source: {ecosystem: json, device: a}}\n"
        "  - {id: s2, kind: smoke, source: {ecosystem: json, device: b}}\n"
        "  - {id: s2, kind: smoke, source: {ecosystem: json, device: b}}\n"
    )
    fields = {f for _, f, _ in found}
    assert {"sensors[0].kind", "sensors[2].id", "sensors[2].source.device"} <= fields


def test_uplink_password_only_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(GatewayConfig, HEAD.replace("{host: 127.0.0.1}", "{password: x}"))
    assert "STREETWATCH_EDGE_UPLINK__PASSWORD" in str(caught.value)
    monkeypatch.setenv("STREETWATCH_EDGE_UPLINK__PASSWORD", "s3cret")
    config = load_config_text(GatewayConfig, HEAD + "  []\n")
    assert config.uplink.password is not None
    assert config.uplink.password.get_secret_value() == "s3cret"
    assert "s3cret" not in config.config_hash()
    assert "s3cret" not in repr(config)

"""hub.yaml: the example parses, check-config points at file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from hub.cli import group as hub_cli
from hub.config import HubConfig, HubMqttConfig
from streetwatch.config import ConfigError, load_config, load_config_text
from streetwatch.topics import Scope

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "hub.yaml"


def test_the_example_is_valid() -> None:
    config = load_config(HubConfig, EXAMPLE)
    assert config.mqtt.scopes() == [Scope("pudong")]
    assert config.storage.backend == "sqlite"
    assert [s.id for d in config.city.districts for s in d.streets] == ["huamu", "yangjing"]


def test_check_config_accepts_the_example() -> None:
    result = CliRunner().invoke(hub_cli, ["check-config", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    assert "花木街道" in result.output


BROKEN = """\
hub:
  id: Pudong 1
mqtt:
  port: 70000
  shards: ["pudong/nowhere"]
storage:
  backend: postgres
  batch_points: 10
  max_pending_points: 5
city:
  districts:
    - id: pudong
      zh: 浦东新区
      en: Pudong
      streets:
        - {id: huamu, zh: 花木街道, en: Huamu, communities: []}
        - {id: huamu, zh: 花木街道, en: Huamu, communities: []}
"""


def test_every_problem_has_file_line_and_field() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(HubConfig, BROKEN, "hub.yaml")
    where = {(p.line, p.field) for p in caught.value.problems}
    assert (2, "hub.id") in where
    assert (4, "mqtt.port") in where
    assert (7, "storage.backend") in where
    assert all(p.file == "hub.yaml" for p in caught.value.problems)


def test_semantic_problems_point_at_their_lines() -> None:
    text = BROKEN.replace("  id: Pudong 1\n", "  id: pudong-1\n").replace(
        "port: 70000", "port: 1883"
    )
    text = text.replace("backend: postgres", "backend: sqlite").replace(
        "max_pending_points: 5", "max_pending_points: 50"
    )
    with pytest.raises(ConfigError) as caught:
        load_config_text(HubConfig, text, "hub.yaml")
    messages = {(p.line, p.field): p.message for p in caught.value.problems}
    assert "not in the city" in messages[(5, "mqtt.shards[0]")]
    assert any(field.startswith("city.districts[0].streets[1]") for _, field in messages)


def test_a_secret_in_the_file_is_refused_with_the_variable_to_use() -> None:
    text = EXAMPLE.read_text().replace("  username: hub\n", "  username: hub\n  password: s3cret\n")
    with pytest.raises(ConfigError) as caught:
        load_config_text(HubConfig, text, "hub.yaml")
    assert any("STREETWATCH_HUB_MQTT__PASSWORD" in p.message for p in caught.value.problems)


CHANNEL = """
notify:
  channels:
    hook: {type: webhook, url: "http://127.0.0.1:9/page", secret: "ssssssssssssssssssss"}
"""


def test_a_channel_secret_in_the_file_is_refused_and_the_environment_supplies_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = EXAMPLE.read_text() + CHANNEL
    with pytest.raises(ConfigError) as caught:
        load_config_text(HubConfig, text, "hub.yaml")
    (problem,) = [p for p in caught.value.problems if p.field == "notify.channels.hook.secret"]
    assert "STREETWATCH_HUB_NOTIFY__CHANNELS__HOOK__SECRET" in problem.message
    monkeypatch.setenv("STREETWATCH_HUB_NOTIFY__CHANNELS__HOOK__SECRET", "e" * 20)
    config = load_config_text(HubConfig, text.replace(', secret: "ssssssssssssssssssss"', ""))
    _, settings = config.notify.channel_config("hook")
    assert settings.secret.get_secret_value() == "e" * 20  # type: ignore[attr-defined]


@pytest.mark.parametrize(("written", "read"), [(5, "5"), ("3.1.1", "3.1.1"), (None, "5")])
def test_the_mqtt_version_is_5_unless_told(written: object, read: str) -> None:
    section = {"host": "127.0.0.1"} | ({"protocol": written} if written is not None else {})
    assert HubMqttConfig.model_validate(section).protocol == read  # `protocol: 5` is YAML's int


def test_an_unknown_mqtt_version_is_refused() -> None:
    with pytest.raises(ValidationError, match="protocol"):
        HubMqttConfig.model_validate({"protocol": 4})

"""The api section of hub.yaml: tokens and the link secret only from the environment."""

from __future__ import annotations

import json

import pytest
from pydantic_settings import SettingsConfigDict

from hub.api.config import ApiConfig
from streetwatch.config import ComponentSettings, ConfigError, load_config_text

from .street import ADMIN, TOKENS


class _Hub(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="STREETWATCH_HUB_")
    api: ApiConfig = ApiConfig()


def test_tokens_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREETWATCH_HUB_API__ADMIN_TOKEN", ADMIN)
    monkeypatch.setenv("STREETWATCH_HUB_API__RESPONDER_TOKENS", json.dumps(TOKENS))
    loaded = load_config_text(_Hub, "api: {port: 9000}\n", "hub.yaml")
    assert loaded.api.responders() == TOKENS
    assert loaded.api.admin_token is not None
    assert loaded.api.admin_token.get_secret_value() == ADMIN
    assert ADMIN not in repr(loaded)
    assert TOKENS["li-na"] not in repr(loaded)


def test_tokens_in_the_file_are_refused() -> None:
    text = f"api:\n  port: 9000\n  admin_token: {ADMIN}\n"
    with pytest.raises(ConfigError) as caught:
        load_config_text(_Hub, text, "hub.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (3, "api.admin_token")
    assert "STREETWATCH_HUB_API__ADMIN_TOKEN" in problem.message


@pytest.mark.parametrize(
    ("tokens", "words"),
    [
        ("{not json", "not JSON"),
        ('["a"]', "JSON object"),
        ('{"Zhang Wei": "tok-0123456789abcdef"}', "responder id"),
        ('{"a": "short"}', "at least 16"),
        ('{"a": "tok-0123456789abcdef", "b": "tok-0123456789abcdef"}', "share a token"),
    ],
)
def test_bad_responder_tokens(monkeypatch: pytest.MonkeyPatch, tokens: str, words: str) -> None:
    monkeypatch.setenv("STREETWATCH_HUB_API__RESPONDER_TOKENS", tokens)
    with pytest.raises(ConfigError) as caught:
        load_config_text(_Hub, "{}", "hub.yaml")
    (problem,) = caught.value.problems
    assert words in problem.message
    assert "STREETWATCH_HUB_API__RESPONDER_TOKENS" in problem.message
    assert "0123456789abcdef" not in str(caught.value)


def test_config_models_are_documented() -> None:
    for name, info in ApiConfig.model_fields.items():
        assert info.description, f"ApiConfig.{name} has no description"

"""Security of the responder API's bearer tokens: missing, wrong, expired, off the roster.

On a real hub over HTTP: no token and an unknown token are 401, a token past its expiry
(``api.token_expires``) is 401 saying when it expired, the token of a responder no longer on the
roster is 403; a good token works, and no answer quotes a token. The expiry itself is checked on
a manual clock (``bearer_caller`` with an injected clock), to the second, and the config refuses
expiries it cannot judge. (tests/unit/hub/api/test_app.py checks every endpoint with bad headers
on an in-memory service.)
"""

# No `from __future__ import annotations`: FastAPI reads the dependency in the annotation.

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic_settings import SettingsConfigDict
from support.services import MosquittoService
from unit.hub.api.street import ADMIN, TOKENS, Street

from hub.api.auth import Caller, bearer_caller
from hub.api.config import ApiConfig
from streetwatch.clock import ManualClock
from streetwatch.config import ComponentSettings, ConfigError, load_config_text

from .security_hub import GRID_WORKER, responding_hub

EXPIRY = datetime.fromisoformat("2026-12-31T18:00:00+08:00")
SAID = "token expired on 2026-12-31 18:00+08:00"


def api_config(expires: dict[str, str]) -> ApiConfig:
    return ApiConfig.model_validate(
        {"admin_token": ADMIN, "responder_tokens": json.dumps(TOKENS), "token_expires": expires}
    )


@asynccontextmanager
async def whoami(config: ApiConfig, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    """An app with one endpoint behind the hub's bearer check on ``clock``: who is calling."""
    app = FastAPI()
    Me = Annotated[Caller, Depends(bearer_caller(config, Street(clock), clock))]

    @app.get("/me")
    async def me(caller: Me) -> str:
        return caller.id

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("who", "token"), [("zhang-wei", TOKENS["zhang-wei"]), ("admin", ADMIN)])
async def test_a_token_works_until_its_expiry_then_says_when(who: str, token: str) -> None:
    clock = ManualClock(start=EXPIRY.timestamp() - 1)
    async with whoami(api_config({who: EXPIRY.isoformat()}), clock) as api:
        assert (await api.get("/me", headers=bearer(token))).json() == who
        await clock.advance(1)
        expired = await api.get("/me", headers=bearer(token))
        assert expired.status_code == 401
        assert expired.headers["WWW-Authenticate"] == "Bearer"
        assert expired.json()["detail"].startswith(SAID)
        assert token not in expired.text
        other = TOKENS["li-na"]  # without an expiry: works on
        assert (await api.get("/me", headers=bearer(other))).json() == "li-na"


async def test_an_expiry_in_another_time_zone_is_the_same_instant() -> None:
    clock = ManualClock(start=EXPIRY.timestamp())
    utc = "2026-12-31T10:00:00Z"  # 18:00 in Beijing
    async with whoami(api_config({"zhang-wei": utc}), clock) as api:
        response = await api.get("/me", headers=bearer(TOKENS["zhang-wei"]))
        assert response.status_code == 401
        assert "2026-12-31 10:00+00:00" in response.json()["detail"]


class _Hub(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="STREETWATCH_HUB_")
    api: ApiConfig = ApiConfig()


def problem(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config_text(_Hub, text, "hub.yaml")
    (only,) = caught.value.problems
    return str(only)


def test_expiries_are_read_from_hub_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREETWATCH_HUB_API__RESPONDER_TOKENS", json.dumps(TOKENS))
    text = "api:\n  token_expires:\n    zhang-wei: 2026-12-31T18:00:00+08:00\n"
    config = load_config_text(_Hub, text, "hub.yaml")
    assert config.api.token_expires == {"zhang-wei": EXPIRY}


def test_an_expiry_without_utc_offset_is_refused() -> None:
    said = problem("api:\n  token_expires:\n    admin: 2026-12-31T18:00:00\n")
    assert "hub.yaml:2: api.token_expires" in said
    assert "no UTC offset; write it like 2026-12-31T18:00:00+08:00" in said


def test_an_expiry_for_nobodys_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREETWATCH_HUB_API__RESPONDER_TOKENS", json.dumps(TOKENS))
    said = problem("api:\n  token_expires:\n    zhang-wie: 2026-12-31T18:00:00+08:00\n")
    assert "no token in STREETWATCH_HUB_API__RESPONDER_TOKENS for 'zhang-wie'" in said
    assert TOKENS["zhang-wei"] not in said


def test_a_responder_may_not_be_called_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREETWATCH_HUB_API__RESPONDER_TOKENS", json.dumps({"admin": "t" * 20}))
    said = problem("{}")
    assert "'admin' is the operator" in said
    assert "t" * 20 not in said


async def test_the_hubs_api_refuses_missing_wrong_expired_and_off_roster_tokens(
    tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    tokens = {
        GRID_WORKER: "tok-wang-0123456789abcdef",
        "li": "tok-li-expired-0123456789",
        "gone": "tok-gone-left-the-roster-01",  # a token the roster no longer has a person for
    }
    admin = "admin-0123456789abcdef"
    api = {
        "port": 0,
        "admin_token": admin,
        "responder_tokens": json.dumps(tokens),
        "token_expires": {"li": "2020-01-01T08:00:00+08:00", GRID_WORKER: "2099-01-01T00:00Z"},
    }
    async with responding_hub(tmp_path, mosquitto, topic_prefix, api) as running:
        http = running.api
        cases = [
            ({}, 401, "a bearer token is required"),
            (bearer("tok-nobody-0123456789abcdef"), 401, "unknown token"),
            ({"Authorization": f"Basic {tokens[GRID_WORKER]}"}, 401, "a bearer token is required"),
            (bearer(tokens["li"]), 401, "token expired on 2020-01-01 08:00+08:00"),
            (bearer(tokens["gone"]), 403, "this responder is not on the roster"),
        ]
        for headers, status, detail in cases:
            response = await http.get("/incidents", headers=headers)
            assert response.status_code == status, headers
            assert response.json()["detail"].startswith(detail), headers
            assert not any(token in response.text for token in (*tokens.values(), admin))
        assert (await http.get("/incidents", headers=bearer(tokens[GRID_WORKER]))).json() == []
        metrics = await http.get("/metrics", headers=bearer(admin))
        assert metrics.status_code == 200

"""The OpenAPI document: valid, complete, and honest about who needs a token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from openapi_spec_validator import validate

from .street import World, open_world

ROUTES = {
    ("GET", "/health"),
    ("GET", "/metrics"),
    ("GET", "/incidents"),
    ("GET", "/incidents/{incident_id}"),
    ("POST", "/incidents/{incident_id}/ack"),
    ("POST", "/incidents/{incident_id}/resolve"),
    ("POST", "/incidents/{incident_id}/reports"),
    ("GET", "/incidents/{incident_id}/resources"),
    ("GET", "/ack/{token}"),
    ("POST", "/ack/{token}"),
}
LINK = {("GET", "/ack/{token}"), ("POST", "/ack/{token}")}
OPEN = {("GET", "/health"), *LINK}


@pytest.fixture
async def spec() -> AsyncIterator[dict[str, Any]]:
    async with open_world() as world:
        response = await world.client.get("/openapi.json")
        assert response.status_code == 200
        yield response.json()


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with open_world() as world:
        yield world


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }


def test_the_document_is_valid(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["info"]["title"] == "StreetWatch responder API"
    assert spec["info"]["description"]


def test_every_route_is_listed(spec: dict[str, Any], world: World) -> None:
    assert set(operations(spec)) == ROUTES
    app_routes = {
        (method, route.path)
        for route in world.app.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    assert app_routes == ROUTES


def test_every_operation_is_described(spec: dict[str, Any]) -> None:
    for key, operation in operations(spec).items():
        assert operation.get("summary"), key
        assert operation.get("tags"), key
        assert operation["operationId"].isidentifier(), key


def test_security_matches_the_code(spec: dict[str, Any]) -> None:
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for key, operation in operations(spec).items():
        if key in OPEN:
            assert "security" not in operation, key
        else:
            assert operation["security"] == [{"HTTPBearer": []}], key
            assert "401" in operation["responses"], key


def test_json_answers_have_models(spec: dict[str, Any]) -> None:
    for key, operation in operations(spec).items():
        ok = operation["responses"].get("200") or operation["responses"]["201"]
        content = ok["content"]
        if "application/json" in content:
            assert content["application/json"]["schema"], key
    schemas = spec["components"]["schemas"]
    assert {"Incident", "Resource", "ReportIn", "Problem", "Health"} <= set(schemas)


def test_the_link_answers_pages(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    for key in LINK:
        responses = ops[key]["responses"]
        assert set(responses) >= {"200", "403", "404", "409"}, key
        for code in ("200", "403", "404", "409"):
            assert set(responses[code]["content"]) == {"text/html"}, (key, code)
            assert responses[code]["description"], (key, code)
    assert ops[("GET", "/ack/{token}")]["operationId"] == "open_ack_link"
    assert ops[("POST", "/ack/{token}")]["operationId"] == "ack_link"
    assert "changes nothing" in ops[("GET", "/ack/{token}")]["summary"]

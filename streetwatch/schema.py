"""JSON Schema of every wire message, as committed in ``docs/protocol/``."""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from streetwatch.messages import (
    AnomalyEvent,
    Command,
    GatewayHealth,
    GatewayState,
    StreetIncidents,
    TelemetryBatch,
)

WIRE_MESSAGES: dict[str, Any] = {
    "telemetry": TelemetryBatch,
    "event": AnomalyEvent,
    "state": GatewayState,
    "health": GatewayHealth,
    "command": Command,
    "incidents": StreetIncidents,
}


def schema_files() -> dict[str, str]:
    """File name → JSON text, deterministic (sorted keys, trailing newline)."""
    files = {}
    for name, model in WIRE_MESSAGES.items():
        schema = TypeAdapter(model).json_schema(mode="validation")
        schema["$id"] = f"https://streetwatch.invalid/protocol/v1/{name}.json"
        schema.setdefault("title", name)
        files[f"{name}.schema.json"] = (
            json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )
    return files

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streetwatch.schema import WIRE_MESSAGES, schema_files

PROTOCOL = Path(__file__).resolve().parents[3] / "docs" / "protocol"
FILES = schema_files()


def test_the_protocol_folder_exists() -> None:
    assert PROTOCOL.is_dir(), f"{PROTOCOL} is missing; run `streetwatch schema`"


@pytest.mark.parametrize("name", sorted(FILES))
def test_committed_schema_matches_the_models(name: str) -> None:
    path = PROTOCOL / name
    committed = path.read_text(encoding="utf-8") if path.exists() else None
    assert committed == FILES[name], (
        f"docs/protocol/{name} does not match streetwatch.messages; "
        "run `streetwatch schema` and commit the result"
    )


def test_no_stale_schema_files_are_left_behind() -> None:
    committed = {p.name for p in PROTOCOL.glob("*.schema.json")}
    assert committed == set(FILES), (
        "docs/protocol has schema files no wire message produces (or lacks some); "
        "run `streetwatch schema` and delete the stale ones"
    )


def test_one_file_per_wire_message() -> None:
    assert set(FILES) == {f"{name}.schema.json" for name in WIRE_MESSAGES}


def test_generation_is_deterministic() -> None:
    assert schema_files() == FILES
    for text in FILES.values():
        assert text.endswith("}\n")
        assert json.loads(text)["$id"].startswith("https://streetwatch.invalid/protocol/v1/")


def _top_level_objects(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The message object(s) of a schema file: itself, or each member of a union."""
    if "oneOf" in schema:
        defs = schema["$defs"]
        out = []
        for member in schema["oneOf"]:
            ref = member["$ref"]
            assert ref.startswith("#/$defs/")
            name = ref.removeprefix("#/$defs/")
            out.append((name, defs[name]))
        return out
    return [(schema.get("title", "?"), schema)]


@pytest.mark.parametrize("name", sorted(FILES))
def test_wire_messages_forbid_unknown_fields(name: str) -> None:
    schema = json.loads(FILES[name])
    objects = _top_level_objects(schema)
    assert objects
    for title, obj in objects:
        assert obj["type"] == "object", title
        assert obj["additionalProperties"] is False, title
        assert "v" in obj["properties"], f"{title} carries no schema version"
        assert obj["properties"]["v"]["const"] == 1


@pytest.mark.parametrize("name", sorted(FILES))
def test_nested_models_forbid_unknown_fields_too(name: str) -> None:
    schema = json.loads(FILES[name])
    for title, definition in schema.get("$defs", {}).items():
        if "properties" in definition:
            assert definition["additionalProperties"] is False, title


def test_commands_are_a_discriminated_union() -> None:
    schema = json.loads(FILES["command.schema.json"])
    assert schema["discriminator"]["propertyName"] == "command"
    assert set(schema["discriminator"]["mapping"]) == {
        "alert_mode",
        "confirm",
        "ping",
        "rebirth",
        "reload_config",
        "resend",
        "silence_siren",
    }

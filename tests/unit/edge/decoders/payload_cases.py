"""The payload fixtures in tests/fixtures/payloads/<ecosystem>/<kind>_<case>.json, loaded.

A fixture holds ``topic``, ``payload`` (a JSON value, or a string for the raw bytes sent),
optional ``fields`` (gateway.yaml ``source.fields`` entries) and ``expect``:

* ``values``, ``device_time_ms``, ``online`` (optional), ``ignored``, ``problems`` (the field
  paths that must each have a problem) for a message that decodes, or ``failure``: the reason;
* ``discover``: the kind ``recognise`` should guess, null for a device recognised without a
  kind, false for a message that is not recognised at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from edge.config import FieldMapConfig, SensorConfig, SourceConfig
from streetwatch.kinds import KINDS, Ecosystem, FieldMap, KindName, SensorKind
from streetwatch.topics import DeviceTopic, parse_device_topic

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "payloads"


@dataclass(frozen=True)
class Case:
    path: Path
    ecosystem: Ecosystem
    kind: SensorKind
    topic: str
    payload: bytes
    fields: tuple[dict[str, Any], ...]
    expect: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.ecosystem.value}/{self.path.stem}"

    @property
    def device_topic(self) -> DeviceTopic:
        return parse_device_topic(self.ecosystem, self.topic)

    def sensor(self) -> SensorConfig:
        source = SourceConfig(
            ecosystem=self.ecosystem,
            device=self.device_topic.device,
            fields=tuple(FieldMapConfig(**f) for f in self.fields),
        )
        return SensorConfig(id=self.path.stem, kind=self.kind.name, source=source)

    def field_maps(self) -> tuple[FieldMap, ...]:
        """What the agent would use: the configured fields, then the kind's defaults."""
        return self.sensor().field_maps()


def _kind_of(stem: str) -> SensorKind:
    names = sorted((k.value for k in KindName), key=len, reverse=True)
    for name in names:
        if stem.startswith(name + "_"):
            return KINDS[KindName(name)]
    raise ValueError(f"fixture {stem!r} does not start with a kind name")


def raw_payload(value: Any) -> bytes:
    # stdlib json: it writes integers of any size, as a device might.
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


@cache
def load_cases() -> tuple[Case, ...]:
    cases = []
    for path in sorted(FIXTURES.glob("*/*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        cases.append(
            Case(
                path=path,
                ecosystem=Ecosystem(path.parent.name),
                kind=_kind_of(path.stem),
                topic=doc["topic"],
                payload=raw_payload(doc["payload"]),
                fields=tuple(doc.get("fields", ())),
                expect=doc["expect"],
            )
        )
    return tuple(cases)

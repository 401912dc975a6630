"""Truth records: JSONL round trip, consistency rules, readable errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from simulators.truth import KNOWN_WHATS, TruthKind, TruthLog, TruthLogError, TruthRecord
from streetwatch.anomalies import Hazard
from streetwatch.levels import Level

T0 = 1_750_000_000_000


def fire(**changes: Any) -> TruthRecord:
    data: dict[str, Any] = {
        "kind": "hazard",
        "what": "kitchen_fire",
        "hazard": "fire",
        "district": "pudong",
        "street": "huamu",
        "community": "lianyang",
        "building": "b3",
        "sensors": ["smoke-b3-kitchen", "gas-b3-kitchen"],
        "gateways": ["gw-lianyang-01"],
        "start_ms": T0,
        "end_ms": T0 + 600_000,
        "level": "red",
    }
    return TruthRecord.model_validate(data | changes)


RECORDS = [
    fire(),
    TruthRecord(
        kind=TruthKind.HAZARD,
        what="street_flood",
        hazard=Hazard.FLOOD,
        district="pudong",
        street="huamu",
        streets=("yangjing",),
        start_ms=T0,
        end_ms=T0 + 3_600_000,
        level=Level.ORANGE,
    ),
    fire(kind="nuisance", what="cooking_smoke", level="none", sensors=["smoke-b3-kitchen"]),
    fire(kind="fault", what="sensor_stuck", hazard="device", level="none", building=None),
]


def test_jsonl_round_trip(tmp_path: Path) -> None:
    log = TruthLog(tmp_path / "run" / "truth.jsonl")
    log.write(RECORDS[:2])
    log.append(*RECORDS[2:])
    assert log.read() == RECORDS
    lines = log.path.read_text("utf-8").splitlines()
    assert len(lines) == 4
    assert lines[0].startswith('{"kind":"hazard","what":"kitchen_fire","hazard":"fire"')
    log.write(RECORDS[:1])  # write replaces
    assert log.read() == RECORDS[:1]


def test_place_and_label() -> None:
    assert RECORDS[0].label == "kitchen_fire @ pudong/huamu/lianyang/b3"
    assert RECORDS[1].place == "pudong/huamu+yangjing"
    assert RECORDS[1].all_streets == ("huamu", "yangjing")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_ms": T0 - 1}, "end_ms is before start_ms"),
        ({"level": "none"}, "a hazard deserves a warning level"),
        ({"kind": "nuisance", "what": "steam"}, "a nuisance deserves no warning"),
        ({"kind": "fault", "level": "none"}, "'kitchen_fire' is a hazard, not a fault"),
        ({"community": None}, "give the community too"),
        ({"what": "Kitchen Fire"}, "String should match pattern"),
        ({"street": "花木"}, "use lowercase letters"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_inconsistent_records_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        fire(**changes)


def test_new_names_are_allowed_and_known_ones_have_a_kind() -> None:
    assert fire(what="wok_fire").what == "wok_fire"
    assert KNOWN_WHATS["collision"] is TruthKind.HAZARD
    assert KNOWN_WHATS["sensor_stuck"] is TruthKind.FAULT
    assert KNOWN_WHATS["cooking_smoke"] is TruthKind.NUISANCE


def test_a_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "truth.jsonl"
    good = RECORDS[0].model_dump_json()
    bad = good.replace('"red"', '"purple"')
    path.write_text(f"{good}\n\n{bad}\n", "utf-8")
    with pytest.raises(TruthLogError, match=r"truth.jsonl:3: level: Input should be 'none'"):
        TruthLog(path).read()
    path.write_text("{not json\n", "utf-8")
    with pytest.raises(TruthLogError, match=r"truth.jsonl:1: \(record\): Invalid JSON"):
        TruthLog(path).read()

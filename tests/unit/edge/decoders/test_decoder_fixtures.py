"""Every payload fixture decodes to what it expects (values, times, ignored fields, problems)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest

from edge.decoders import Decoded, DecodeFailure, decode
from streetwatch.kinds import Ecosystem
from unit.edge.decoders.payload_cases import Case, load_cases

CASES = load_cases()


def _decode(case: Case) -> Decoded:
    subject = case.device_topic.subject
    return decode(case.ecosystem, case.payload, subject, case.field_maps(), case.kind)


def assert_values(actual: dict[str, float | bool], expected: dict[str, Any]) -> None:
    assert set(actual) == set(expected)
    for name, want in expected.items():
        got = actual[name]
        if isinstance(want, bool):
            assert got is want, name
        else:
            assert type(got) is float, f"{name} must be a float, got {got!r}"
            assert math.isfinite(got)
            assert got == pytest.approx(want, rel=1e-9), name


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fixture(case: Case) -> None:
    expect = case.expect
    if "failure" in expect:
        with pytest.raises(DecodeFailure) as info:
            _decode(case)
        assert info.value.reason == expect["failure"], str(info.value)
        assert len(str(info.value)) > len(info.value.reason)  # a sentence, not just the slug
        return
    decoded = _decode(case)
    assert_values(dict(decoded.values), expect["values"])
    assert decoded.device_time_ms == expect["device_time_ms"]
    assert decoded.online is expect.get("online")
    assert sorted(decoded.ignored) == sorted(expect["ignored"])
    assert len(decoded.problems) == len(expect["problems"]), decoded.problems
    for field in expect["problems"]:
        assert any(p.startswith(f"{field}: ") for p in decoded.problems), (field, decoded.problems)


def test_fixtures_cover_every_ecosystem_with_good_and_bad_payloads() -> None:
    good = Counter(c.ecosystem for c in CASES if "failure" not in c.expect)
    bad = Counter(c.ecosystem for c in CASES if "failure" in c.expect)
    for ecosystem in Ecosystem:
        assert good[ecosystem] >= 3, ecosystem
        assert bad[ecosystem] >= 2, ecosystem


def test_fixtures_cover_the_malformed_cases() -> None:
    reasons = {c.expect["failure"] for c in CASES if "failure" in c.expect}
    assert {
        "not_json",
        "not_object",
        "no_known_fields",
        "no_usable_fields",
        "bad_availability",
        "bad_base64",
        "no_codec_object",
        "no_payload",
        "bad_object",
        "bad_object_json",
    } <= reasons
    problems = [p for c in CASES for p in c.expect.get("problems", ())]
    assert len(problems) >= 8


def test_every_fixture_device_is_distinct() -> None:
    # The integration test publishes them all at once; one device per fixture keeps the
    # expected kinds independent of each other.
    devices = Counter((c.ecosystem, c.device_topic.device) for c in CASES)
    assert [d for d, n in devices.items() if n > 1] == []

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from streetwatch.ids import SLUG_MAX, InvalidSlugError, Slug, check_slug


@pytest.mark.parametrize(
    "value",
    [
        "a",
        "7",
        "pudong",
        "gw-1",
        "sensor_12",
        "b12-f3_kitchen",
        "a-b",
        "x" * SLUG_MAX,
        "0123456789",
    ],
)
def test_valid_slugs(value: str) -> None:
    assert check_slug(value) == value


@pytest.mark.parametrize(
    ("value", "mentioned"),
    [
        ("", "empty"),
        ("Pudong", "capitals"),
        ("GW-1", "capitals"),
        ("a/b", "'/'"),
        ("a+b", "'+'"),
        ("a#", "'#'"),
        ("a b", "' '"),
        ("浦东", "'浦'"),
        ("huamu街道", "'街'"),
        ("-abc", "start and end"),
        ("abc-", "start and end"),
        ("_abc", "start and end"),
        ("abc_", "start and end"),
        ("x" * (SLUG_MAX + 1), f"longer than {SLUG_MAX}"),
        ("a.b", "'.'"),
        ("a\x00b", "'\\x00'"),
    ],
)
def test_refused_with_a_readable_reason(value: str, mentioned: str) -> None:
    with pytest.raises(InvalidSlugError) as info:
        check_slug(value)
    assert mentioned in str(info.value)


def test_every_bad_character_is_named_once() -> None:
    with pytest.raises(InvalidSlugError) as info:
        check_slug("a/b/c+d")
    message = str(info.value)
    assert "'/'" in message
    assert "'+'" in message
    assert message.count("'/'") == 1


def test_message_says_what_is_accepted() -> None:
    with pytest.raises(InvalidSlugError, match="lowercase letters, digits, '-' and '_'"):
        check_slug("a b")


def test_message_names_the_field() -> None:
    with pytest.raises(InvalidSlugError, match=r"^district "):
        check_slug("Pudong", "district")


def test_invalid_slug_is_a_value_error() -> None:
    assert issubclass(InvalidSlugError, ValueError)


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidSlugError, match="must be text, got int"):
        check_slug(12)  # type: ignore[arg-type]


class _Named(BaseModel):
    id: Slug


def test_pydantic_slug_accepts_valid() -> None:
    assert _Named(id="gw-1").id == "gw-1"


@pytest.mark.parametrize("value", ["GW", "a/b", "", "浦东"])
def test_pydantic_slug_refuses_invalid(value: str) -> None:
    with pytest.raises(ValidationError) as info:
        _Named(id=value)
    assert info.value.errors()[0]["loc"] == ("id",)

"""Identifiers used in topics, configs and messages.

An id is a *slug*: lowercase ASCII letters, digits, ``-`` and ``_``, starting and ending with a
letter or digit, at most 64 characters. That keeps every id safe as an MQTT topic segment (no
``/``, ``+``, ``#`` or NUL), as an InfluxDB tag and in a file name. Human names (Chinese or
English) live beside ids, never in them.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

SLUG_MAX = 64
_SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?")


class InvalidSlugError(ValueError):
    """An id that is not a slug; the message says why and what would be accepted."""


def check_slug(value: str, what: str = "id") -> str:
    """Return ``value`` if it is a valid slug, else raise :class:`InvalidSlugError`."""
    if not isinstance(value, str):
        raise InvalidSlugError(f"{what} must be text, got {type(value).__name__}")
    if _SLUG_RE.fullmatch(value):
        return value
    if not value:
        raise InvalidSlugError(f"{what} is empty")
    if len(value) > SLUG_MAX:
        raise InvalidSlugError(f"{what} {value!r} is longer than {SLUG_MAX} characters")
    bad = sorted({c for c in value if not (c.isascii() and (c.isalnum() or c in "-_"))})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise InvalidSlugError(
            f"{what} {value!r} contains {shown}; use lowercase letters, digits, '-' and '_'"
        )
    if value != value.lower():
        raise InvalidSlugError(f"{what} {value!r} has capitals; ids are lowercase")
    raise InvalidSlugError(f"{what} {value!r} must start and end with a letter or digit")


_KNOWN_GOOD: set[str] = set()
"""Slugs already checked: a fleet uses the same few thousand ids in every message."""


def known_slug(value: str, what: str = "id") -> str:
    """``check_slug``, remembering the slugs that passed (the fleet's ids, checked once each)."""
    if value in _KNOWN_GOOD:
        return value
    check_slug(value, what)
    if len(_KNOWN_GOOD) >= 100_000:  # bounded: random ids cannot grow it without limit
        _KNOWN_GOOD.clear()
    _KNOWN_GOOD.add(value)
    return value


Slug = Annotated[str, AfterValidator(known_slug)]
"""A pydantic-validated slug (see the module docstring)."""

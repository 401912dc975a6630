"""Hypothesis strategies for bad input: random bytes, random JSON, and mutated valid payloads.

``mutations_of(payload)`` takes a real payload (a device's, a gateway's) and breaks it the way
radios, firmware bugs and hostile publishers do: on the JSON tree (a key dropped, renamed or
given twice, a value of another type, NaN, Infinity or a number too large for a double, a huge
text, deep nesting, odd unicode) and then on the bytes (cut short, a bit flipped, garbage
added). Tokens JSON libraries will not write (``NaN``, duplicate keys, lone surrogates) are put
in as raw text.

``bad_input(n)`` is the settings every property here runs with: ``n`` examples, derandomized so
that CI sees the same examples on every run, no example database, no deadline (the hub's
properties write SQLite files).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


def bad_input(max_examples: int, *checks: HealthCheck) -> settings:
    """Deterministic settings for a property; ``checks``: more health checks to leave out."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, *checks],
    )


SPECIAL_NUMBERS: Final = (
    b"NaN",
    b"-NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999",
    b"-1e999",
    b"1e-400",
    b"-0",
    b"-0.0",
    b"1" + b"0" * 400,  # an integer far beyond a double
    b"18446744073709551616",  # 2**64
    b"9007199254740993",  # 2**53 + 1
    b"-9223372036854775809",  # below int64
    b"0x10",
    b"1_000",
    b".5",
    b"01",
)
"""Number-like tokens: some are JSON that overflows, most are not JSON at all."""

SPECIAL_TEXTS: Final = (
    "NaN",
    "inf",
    "-Infinity",
    "1e999",
    " 12.5 ",
    "12,5",
    "0x10",
    "",
    "true",
    "ON",
    "null",
    "２５",  # full-width digits
    "٣",  # an Arabic-Indic digit
    "12.5\u00a0",
    "2026-02-30T10:00:00",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-14:00",
    "\u202e12",
)

RAW_STRINGS: Final = (
    b'"\\ud800"',  # a lone surrogate, escaped
    b'"\\udfff\\ud800"',
    b'"\\u0000"',
    b'"\xff\xfe"',  # invalid UTF-8 inside a string
    b'"\xc3"',
    b'"\xed\xa0\x80"',  # a surrogate encoded in UTF-8
)

HUGE_TEXT_SIZES: Final = (1_000, 60_000, 70_000, 600_000)
"""Around the edge's 64 KiB and the hub's 512 KiB payload limits."""

NESTING_DEPTHS: Final = (30, 300, 1_100, 5_000)
"""Below and above orjson's depth limit (1024)."""

SCALARS: Final = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),  # what orjson writes
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(SPECIAL_TEXTS),
)


def json_values(keys: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Any]:
    """Any JSON value orjson can write, objects keyed by ``keys`` (or by any text)."""
    key = keys if keys is not None else st.text(max_size=8)
    return st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(key, inner, max_size=6),
        max_leaves=20,
    )


# ---------------------------------------------------------------------------------------------
# Mutations of a valid payload.


@dataclass(slots=True)
class _Tree:
    """A payload's JSON being mutated; raw tokens wait in ``raws`` until ``render``.

    The root sits in ``holder[0]`` so that it can be replaced like any other value.
    """

    holder: list[Any]
    raws: dict[str, bytes] = field(default_factory=dict)

    def raw(self, text: bytes) -> str:
        """A placeholder string that ``render`` replaces by ``text``."""
        mark = f"@@raw{len(self.raws)}@@"
        self.raws[mark] = text
        return mark

    def render(self) -> bytes:
        out = orjson.dumps(self.holder[0])
        # Newest first: a raw text may hold an older placeholder (a value nested deep).
        for mark, text in reversed(self.raws.items()):
            out = out.replace(orjson.dumps(mark), text)
        return out

    def leaves(self) -> list[tuple[Any, Any]]:
        """(container, key) of every value that is not an object or an array."""
        return [(c, k) for c, k in self.places() if not isinstance(c[k], dict | list)]

    def places(self) -> list[tuple[Any, Any]]:
        """(container, key) of every value, the root included."""
        found: list[tuple[Any, Any]] = []
        stack: list[tuple[Any, Any]] = [(self.holder, 0)]
        while stack:
            container, key = stack.pop()
            found.append((container, key))
            value = container[key]
            if isinstance(value, dict):
                stack.extend((value, k) for k in value)
            elif isinstance(value, list):
                stack.extend((value, i) for i in range(len(value)))
        return found


Mutation = Callable[[st.DrawFn, _Tree, Any, Any], None]


def _drop(draw: st.DrawFn, tree: _Tree, container: Any, key: Any) -> None:
    if container is tree.holder:
        container[key] = None
    elif isinstance(container, dict):
        del container[key]
    else:
        container.pop(key)


def _rename(draw: st.DrawFn, tree: _Tree, container: Any, key: Any) -> None:
    if not isinstance(container, dict):
        return _retype(draw, tree, container, key)
    variants = [key.upper(), key.capitalize(), f"{key}_", f" {key}", key[:-1], "", f"{key}\u200b"]
    new = draw(st.sampled_from(variants) | st.text(max_size=10))
    container[new] = container.pop(key)
    return None


def _duplicate(draw: st.DrawFn, tree: _Tree, container: Any, key: Any) -> None:
    if not isinstance(container, dict):
        return _special(draw, tree, container, key)
    # The same key again, later in the object, with another value: most parsers keep the last.
    container[tree.raw(orjson.dumps(key))] = draw(SCALARS)
    return None


def _retype(draw: st.DrawFn, tree: _Tree, container: Any, key: Any) -> None:
    value = container[key]
    container[key] = draw(
        st.one_of(
            SCALARS,
            st.just([value]),
            st.just({"value": value}),
            st.just(str(value)),
            st.just(orjson.dumps(value).decode()),
        )
    )


def _special(draw: st.DrawFn, tree: _Tree, container: Any, key: Any) -> None:
    token = draw(st.sampled_from(SPECIAL_NUMBERS + RAW_STRINGS) | st.sampled_from(SPECIAL_TEXTS))
    container[key] = tree.raw(token) if isinstance(token, bytes) else token


def _scale(draw: st.DrawFn, tree: _Tree, container: Any, key: Any) -> None:
    value = container[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _retype(draw, tree, container, key)
    factor = draw(st.sampled_from((-1, 0, 1.5, 10, 1000, 1e6, 1e300)))
    container[key] = value * factor if factor != 0 else draw(st.floats(allow_nan=False))
    if container[key] in (float("inf"), float("-inf")):
        container[key] = tree.raw(b"1e999")
    return None


def _huge(draw: st.DrawFn, tree: _Tree, container: Any, key: Any) -> None:
    size = draw(st.sampled_from(HUGE_TEXT_SIZES))
    filler = draw(st.sampled_from(["x", "9", "水", " "]))
    container[key] = filler * size


def _deep(draw: st.DrawFn, tree: _Tree, container: Any, key: Any) -> None:
    depth = draw(st.sampled_from(NESTING_DEPTHS))
    inner = orjson.dumps(container[key])
    if draw(st.booleans()):
        text = b"[" * depth + inner + b"]" * depth
    else:
        text = b'{"a":' * depth + inner + b"}" * depth
    container[key] = tree.raw(text)


def _unicode(draw: st.DrawFn, tree: _Tree, container: Any, key: Any) -> None:
    text = draw(st.text(st.characters(codec="utf-8"), min_size=1, max_size=16))
    if isinstance(container, dict) and draw(st.booleans()):
        container[text] = container.pop(key)
    else:
        container[key] = text


MUTATIONS: Final[tuple[Mutation, ...]] = (
    _drop,
    _rename,
    _duplicate,
    _retype,
    _special,
    _scale,
    _scale,
    _huge,
    _deep,
    _unicode,
)


@st.composite
def _mutated_json(draw: st.DrawFn, parsed: Any) -> bytes:
    tree = _Tree([copy.deepcopy(parsed)])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        leaves = tree.leaves()
        anywhere = st.sampled_from(tree.places())
        where = st.one_of(st.sampled_from(leaves), anywhere) if leaves else anywhere
        container, key = draw(where)
        mutation = draw(st.sampled_from(MUTATIONS))
        mutation(draw, tree, container, key)
    return tree.render()


@st.composite
def _mutated_bytes(draw: st.DrawFn, payload: bytes) -> bytes:
    if not payload:
        return bytes(draw(st.binary(max_size=16)))
    at = draw(st.integers(min_value=0, max_value=len(payload) - 1))
    how = draw(st.sampled_from(("truncate", "flip", "insert", "delete", "bom", "trail")))
    if how == "truncate":
        return payload[:at]
    if how == "flip":
        mask = draw(st.integers(min_value=1, max_value=255))
        return payload[:at] + bytes([payload[at] ^ mask]) + payload[at + 1 :]
    if how == "insert":
        return payload[:at] + bytes(draw(st.binary(min_size=1, max_size=8))) + payload[at:]
    if how == "delete":
        return payload[:at] + payload[at + draw(st.integers(min_value=1, max_value=8)) :]
    if how == "bom":
        return b"\xef\xbb\xbf" + payload
    return payload + draw(st.sampled_from([b"\x00", b" garbage", b"}", b"\n{}"]))


def mutations_of(payload: bytes) -> st.SearchStrategy[bytes]:
    """``payload`` broken on its JSON tree, on its bytes, or both."""
    try:
        parsed = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return _mutated_bytes(payload)
    tree = _mutated_json(parsed)
    # Mostly JSON that still parses, so that mutations reach the decoders' field code.
    return st.one_of(tree, tree, tree, _mutated_bytes(payload), tree.flatmap(_mutated_bytes))


def one_of(payloads: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    """One of ``payloads`` (``sampled_from`` would show them all in its description)."""
    return st.integers(min_value=0, max_value=len(payloads) - 1).map(payloads.__getitem__)


def bad_payloads(valid: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Random bytes, random JSON, or a mutation of one of ``valid``."""
    mutated = valid.flatmap(mutations_of)
    return st.one_of(
        st.binary(max_size=300), json_values().map(orjson.dumps), mutated, mutated, mutated
    )

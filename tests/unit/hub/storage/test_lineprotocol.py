"""Line protocol: exact bytes for each escaping rule, refusals, a round trip through InfluxDB."""

from __future__ import annotations

import uuid
from enum import IntEnum, StrEnum

import pytest
from support.services import InfluxDBService

from hub.storage.base import FieldValue, Point
from hub.storage.lineprotocol import encode_lines


def point(
    measurement: str = "m",
    tags: dict[str, str] | None = None,
    fields: dict[str, FieldValue] | None = None,
    time_ms: int = 1_795_000_000_123,
) -> Point:
    return Point(measurement, tuple(sorted((tags or {}).items())), fields or {"v": 1.5}, time_ms)


def line(p: Point) -> str:
    return encode_lines([p]).decode()


def test_a_plain_point() -> None:
    p = point("water_level", {"sensor": "w1", "district": "pudong"}, {"depth": 31.5})
    assert line(p) == "water_level,district=pudong,sensor=w1 depth=31.5 1795000000123\n"


def test_several_points_one_line_each() -> None:
    points = [point(time_ms=t) for t in (1, 2, 3)]
    assert encode_lines(points) == b"m v=1.5 1\nm v=1.5 2\nm v=1.5 3\n"
    assert encode_lines([]) == b""


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (True, "true"),
        (False, "false"),
        (12, "12i"),
        (-(2**63), "-9223372036854775808i"),
        (0.1, "0.1"),
        (3.0, "3.0"),
        (1e16, "1e+16"),
        (-2.5e-7, "-2.5e-07"),
        ("text", '"text"'),
        ("", '""'),
        ('say "hi"', '"say \\"hi\\""'),
        ("C:\\dir\\", '"C:\\\\dir\\\\"'),
        ("two\nlines", '"two\nlines"'),
        ("积水 30cm", '"积水 30cm"'),
    ],
)
def test_field_values(value: FieldValue, encoded: str) -> None:
    assert line(point(fields={"f": value})) == f"m f={encoded} 1795000000123\n"


class Lane(IntEnum):
    EVENT = 0


class Colour(StrEnum):
    RED = "red"


def test_enum_values_are_written_as_their_base_type() -> None:
    assert line(point(fields={"a": Lane.EVENT, "b": Colour.RED})) == (
        'm a=0i,b="red" 1795000000123\n'
    )


def test_escaping_names() -> None:
    p = point(
        "a measure,ment=x",
        {"tag key,=": "va lue,=", "z": "积水"},
        {"field key,=": 1.0},
    )
    assert line(p) == (
        "a\\ measure\\,ment=x,tag\\ key\\,\\==va\\ lue\\,\\=,z=积水 field\\ key\\,\\==1.0"
        " 1795000000123\n"
    )


@pytest.mark.parametrize(
    ("p", "message"),
    [
        (point(fields={"f": float("nan")}), "only finite numbers"),
        (point(fields={"f": float("inf")}), "only finite numbers"),
        (point(fields={"f": 2**63}), "does not fit in int64"),
        (point(fields={"f": None}), "unsupported type NoneType"),  # type: ignore[dict-item]
        (Point("m", (), {}, 1), "has no fields"),
        (point(""), "empty measurement"),
        (point("#m"), "starts a comment"),
        (point(tags={"t": ""}), "empty value of tag 't'"),
        (point(tags={"t": "a\nb"}), "line break"),
        (point(tags={"t": "a\\"}), "backslash"),
        (point(fields={"f\r": 1.0}), "line break"),
    ],
)
def test_what_line_protocol_cannot_carry_is_refused(p: Point, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_lines([p])


# Names and values that need every escape, read back by a real InfluxDB 1.x.
TRICKY = [
    point("plain", {"sensor": "w1"}, {"depth": 31.5, "alarm": True, "n": 7, "s": "ok"}, 1000),
    point("with space,comma", {"k y": "v,a=l ue"}, {"f=i,e ld": 1.25}, 2000),
    point("m=eq", {"zh": "华木街道"}, {"detail": 'quote " and \\ backslash\\'}, 3000),
    point("plain", {"sensor": "it's"}, {"detail": "two\nlines", "neg": -1e-9}, 4000),
]


@pytest.mark.integration
def test_influxdb_reads_back_exactly_what_was_encoded(influxdb: InfluxDBService) -> None:
    db = f"lp_{uuid.uuid4().hex[:8]}"
    influxdb.create_database(db)
    try:
        influxdb.write_lines(db, encode_lines(TRICKY).decode())
        rows = influxdb.query(db, "SELECT * FROM /.*/ GROUP BY *")
        got = set()
        for row in rows:
            measurement, time_ms = row.pop("name"), row.pop("time")
            values = {k: v for k, v in row.items() if v not in (None, "")}
            got.add((measurement, time_ms, tuple(sorted(values.items()))))
        expected = {
            (p.measurement, p.time_ms, tuple(sorted({**dict(p.tags), **p.fields}.items())))
            for p in TRICKY
        }
        assert got == expected
    finally:
        influxdb.drop_database(db)

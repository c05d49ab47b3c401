"""The compiled Avro writer writes what fastavro writes, byte for byte, and defers every value it is not
sure of to fastavro (which then encodes or refuses it as before)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import fastavro
import pytest
from fastavro.utils import generate_many
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.errors import SerializationError
from bus.serde.avro_body import encode_body
from bus.serde.avro_writer import Defer, compile_writer
from schemas.catalog import default_catalog

CATALOG = default_catalog()
# What the adapters publish on their hot paths: these must compile (not fall back to fastavro).
HOT = ("omnibus.contact.InteractionRecorded", "omnibus.contact.IdentifiersObserved",
       "omnibus.handoff.HandoffCreated", "omnibus.marketing.OfferPresented", "omnibus.marketing.OfferResponded")


def fastavro_bytes(parsed: Any, value: Any) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parsed, value, strict_allow_default=True)
    return buffer.getvalue()


@pytest.mark.parametrize("name", sorted(CATALOG.names()))
def test_every_schema_writes_what_fastavro_writes(name: str) -> None:
    parsed = CATALOG.get(name).parsed
    writer = compile_writer(parsed)
    if writer is None:
        assert name not in HOT
        return
    for value in generate_many(parsed, 25):
        assert writer(value) == fastavro_bytes(parsed, value)


def test_the_hot_schemas_compile() -> None:
    assert all(compile_writer(CATALOG.get(name).parsed) is not None for name in HOT)


SAMPLE = fastavro.parse_schema({
    "type": "record", "name": "Sample", "namespace": "test", "fields": [
        {"name": "text", "type": "string"},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "count", "type": "long"},
        {"name": "small", "type": "int"},
        {"name": "ratio", "type": ["null", "double"], "default": None},
        {"name": "flag", "type": "boolean"},
        {"name": "blob", "type": "bytes"},
        {"name": "facts", "type": ["null", {"type": "map", "values": "string"}], "default": None},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
    ]})
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
values = st.fixed_dictionaries({
    "text": text,
    "at": st.one_of(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets),
                    st.integers(-(2**63), 2**63 - 1)),
    "day": st.one_of(st.dates(), st.integers(-(2**31), 2**31 - 1)),
    "count": st.integers(-(2**63), 2**63 - 1),
    "small": st.integers(-(2**31), 2**31 - 1),
    "ratio": st.none() | st.floats(allow_nan=False),
    "flag": st.booleans(),
    "blob": st.binary(max_size=50),
    "facts": st.none() | st.dictionaries(text, text, max_size=20),
    "tags": st.lists(text, max_size=200),
    "kind": st.sampled_from(["A", "B", "C"]),
})


@settings(max_examples=300, deadline=None)
@given(values)
def test_plain_values_are_written_as_fastavro_writes_them(value: dict[str, Any]) -> None:
    writer = compile_writer(SAMPLE)
    assert writer is not None
    assert writer(value) == fastavro_bytes(SAMPLE, value)


def good() -> dict[str, Any]:
    return {"text": "t", "at": datetime(2026, 1, 1, tzinfo=UTC), "day": date(2026, 1, 1), "count": 1, "small": 2,
            "ratio": None, "flag": True, "blob": b"", "facts": {"a": "b"}, "tags": [], "kind": "A"}


@pytest.mark.parametrize("change", [
    {"ratio": ...},  # missing: takes its default
    {"extra": 1},
    {"count": True},  # a bool where a long is due
    {"count": 2**63},
    {"small": 2**31},
    {"ratio": 1},  # an int where a double is due
    {"kind": "Z"},
    {"at": datetime(2026, 1, 1)},  # naive
    {"text": "\ud800"},
    {"facts": {"a": 1}},
    {"tags": ("a",)},
    {"text": None},
])
def test_values_it_is_not_sure_of_are_deferred_to_fastavro(change: dict[str, Any]) -> None:
    value = {**good(), **change}
    if change.get("ratio") is ...:
        del value["ratio"]
    writer = compile_writer(SAMPLE)
    assert writer is not None
    with pytest.raises(Defer):
        writer(value)
    try:
        expected: bytes | type[Exception] = fastavro_bytes(SAMPLE, value)
    except Exception:  # noqa: BLE001 - whatever fastavro raises, encode_body must refuse
        expected = SerializationError
    if expected is SerializationError:
        with pytest.raises(SerializationError):
            encode_body(SAMPLE, value, "test.Sample")
    else:
        assert encode_body(SAMPLE, value, "test.Sample") == expected


def test_a_schema_it_does_not_cover_is_left_to_fastavro() -> None:
    several = fastavro.parse_schema({"type": "record", "name": "Several", "fields": [
        {"name": "x", "type": ["null", "string", "long"]}]})
    assert compile_writer(several) is None
    assert encode_body(several, {"x": 5}, "Several") == fastavro_bytes(several, {"x": 5})

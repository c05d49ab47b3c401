"""``encode_body`` writes through fastavro's ``write_data`` directly: the same bytes and refusals as
``schemaless_writer`` for every schema of the catalog."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import fastavro
import pytest
from fastavro.utils import generate_many

from bus.errors import SerializationError
from bus.serde import avro_body
from schemas.catalog import default_catalog

CATALOG = default_catalog()


def _reference(parsed: Any, value: Any) -> bytes:
    buffer = BytesIO()
    fastavro.schemaless_writer(buffer, parsed, value, strict_allow_default=True)
    return buffer.getvalue()


def test_the_direct_writer_is_fastavro_s_own() -> None:
    assert avro_body._write_data is not None, "fastavro no longer has _write.write_data: the slower path runs"


@pytest.mark.parametrize("name", CATALOG.names())
def test_every_schema_encodes_byte_for_byte_as_schemaless_writer(name: str) -> None:
    parsed = CATALOG.get(name).parsed
    for value in generate_many(parsed, 10):
        assert avro_body.encode_body(parsed, value, name, b"\xc3\x01") == b"\xc3\x01" + _reference(parsed, value)


def test_a_value_its_schema_refuses_is_a_serialization_error_as_before() -> None:
    name = "omnibus.common.Identifier"
    parsed = CATALOG.get(name).parsed
    for bad in ({"type": "USER_ID", "value": 42}, {"type": "NOT_A_KIND", "value": "x"},
                {"type": "USER_ID", "value": "x", "extra": 1}):
        with pytest.raises(SerializationError, match=f"value does not match {name}"):
            avro_body.encode_body(parsed, bad, name)
        with pytest.raises(SerializationError, match=f"value does not match {name}"):
            avro_body.write_body(BytesIO(), parsed, bad, name)
    # a field left out takes its default, as with strict_allow_default
    envelope = CATALOG.get("omnibus.common.Envelope").parsed
    value = next(iter(generate_many(envelope, 1)))
    for field in ("site", "causation_id", "source_event_id"):
        del value[field]
    assert avro_body.encode_body(envelope, value, "e") == _reference(envelope, value)


def _read_reference(data: bytes, writer: Any, reader: Any | None) -> Any:
    return fastavro.schemaless_reader(BytesIO(data), writer, reader)


def _context() -> Any:
    from bus.serde.base import SerdeContext

    return SerdeContext(topic="t")


def test_the_direct_reader_is_fastavro_s_own() -> None:
    assert avro_body._read_data is not None, "fastavro no longer has _read._read_data: the slower path runs"


@pytest.mark.parametrize("name", [name for name in CATALOG.names() if CATALOG.get(name).parsed["type"] == "record"])
def test_every_record_schema_reads_as_schemaless_reader_reads(name: str) -> None:
    parsed = CATALOG.get(name).parsed
    for value in generate_many(parsed, 10):
        data = b"\xc3\x01" + _reference(parsed, value)
        assert avro_body.read_body(data, 2, parsed, None, _context(), name) == _read_reference(data[2:], parsed, None)
        # a reader equal to the writer (the registry's copy of the catalog's schema): no resolution, as before
        same = fastavro.parse_schema(CATALOG.get(name).schema)
        assert avro_body.read_body(data, 2, parsed, same, _context(), name) == _read_reference(data[2:], parsed, same)


def test_a_newer_reader_resolves_an_older_writer_s_record_as_schemaless_reader_does() -> None:
    older = fastavro.parse_schema({"type": "record", "name": "t.R", "fields": [
        {"name": "a", "type": "string"},
        {"name": "kind", "type": {"type": "enum", "name": "t.K", "symbols": ["X", "Y"]}}]})
    newer = fastavro.parse_schema({"type": "record", "name": "t.R", "fields": [
        {"name": "a", "type": "string"},
        {"name": "kind", "type": {"type": "enum", "name": "t.K", "symbols": ["X", "Y", "Z"], "default": "Z"}},
        {"name": "b", "type": ["null", "long"], "default": None}]})
    data = _reference(older, {"a": "x", "kind": "Y"})
    read = avro_body.read_body(data, 0, older, newer, _context(), "t.R")
    assert read == _read_reference(data, older, newer) == {"a": "x", "kind": "Y", "b": None}
    with pytest.raises(Exception, match="does not decode as t.R"):  # a writer the reader cannot resolve
        avro_body.read_body(data, 0, older, fastavro.parse_schema({"type": "record", "name": "t.R", "fields": [
            {"name": "c", "type": "string"}]}), _context(), "t.R")

"""The Avro binary body shared by both framings: write strictly, read with schema resolution."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import fastavro

from bus.errors import SerializationError
from bus.serde.base import SerdeContext


def encode_body(parsed_schema: Any, value: dict[str, Any], schema_name: str, prefix: bytes = b"") -> bytes:
    """``prefix`` and ``value``'s Avro binary body, written by fastavro as ``write_body``. Raises
    ``SerializationError``.

    A generated encoder of our own saved about 13 µs per event here (#9 build 6) and was not kept: outside what
    Omnibus exists for, a well-kept library beats code of our own, even a slower one.
    """
    if _write_data is None or "__named_schemas" not in parsed_schema:
        buffer = BytesIO()
        buffer.write(prefix)
        write_body(buffer, parsed_schema, value, schema_name)
        return buffer.getvalue()
    out = bytearray(prefix)
    try:
        _write_data(out, value, parsed_schema, parsed_schema["__named_schemas"], "", _OPTIONS)
    except Exception as exc:  # as write_body
        raise SerializationError(f"value does not match {schema_name}: {exc}") from exc
    return bytes(out)


def write_body(buffer: BytesIO, parsed_schema: Any, value: dict[str, Any], schema_name: str) -> None:
    try:
        # strict_allow_default: a field the schema does not know is a mapping bug, not something to drop
        # silently; a field left out takes its default (fastavro's strict=True would refuse that too, so a
        # field added with a default, as the contract allows, would break every producer not yet updated).
        fastavro.schemaless_writer(buffer, parsed_schema, value, strict_allow_default=True)
    except Exception as exc:  # fastavro raises ValueError, TypeError, KeyError, AttributeError...
        raise SerializationError(f"value does not match {schema_name}: {exc}") from exc


# ``schemaless_writer`` is ``write_data`` into a fresh bytearray after parsing the schema again (a parsed one:
# copying its named types into a new dict) and building its options: about 1 µs of an event's 19-20 µs
# (#9 build 6). With a schema parsed once (``parse_schema`` keeps its named types in ``__named_schemas``)
# the body is written by fastavro's own ``write_data`` directly, with ``write_body``'s options; the same
# bytes (tests/bus/serde/test_avro_body.py). A fastavro without it falls back to ``schemaless_writer``.
try:
    from fastavro._write import write_data as _write_data  # type: ignore[attr-defined]  # not in its stub
except ImportError:  # pragma: no cover - another fastavro build
    _write_data = None
_OPTIONS = {"strict": False, "strict_allow_default": True, "disable_tuple_notation": False}


# ``schemaless_reader`` likewise parses both schemas again (copying their named types into new dicts) and builds its
# options before it calls ``_read_data``: ~3,000 instructions per input event of the identity hot-path bench's
# ~1.3 M (cachegrind, tests/bench/results/identity.md; timeit on a loaded machine said more, #9). With schemas
# parsed once (``__named_schemas``) the body is read by fastavro's own ``_read_data`` directly, with
# ``schemaless_reader``'s default options and the same named types; the same values (tests/bus/serde/test_avro_body.py).
try:
    from fastavro._read import _read_data  # type: ignore[attr-defined]  # not in its stub
except ImportError:  # pragma: no cover - another fastavro build
    _read_data = None
_READ_OPTIONS = {"return_record_name": False, "return_record_name_override": False, "return_named_type": False,
                 "return_named_type_override": False, "handle_unicode_errors": "strict"}


def _read(buffer: BytesIO, writer: Any, reader: Any | None) -> Any:
    """``fastavro.schemaless_reader(buffer, writer, reader)``, without parsing schemas parsed already."""
    if reader is not None and writer == reader:
        reader = None  # as schemaless_reader: no resolution between a schema and itself
    if _read_data is None or not _parsed(writer) or (reader is not None and not _parsed(reader)):
        return fastavro.schemaless_reader(buffer, writer, reader)
    named = {"writer": dict(writer["__named_schemas"]),
             "reader": {} if reader is None else dict(reader["__named_schemas"])}
    return _read_data(buffer, writer, named, reader, _READ_OPTIONS)


def _parsed(schema: Any) -> bool:
    """Whether ``parse_schema`` would return ``schema`` as it is, adding its named types (``__named_schemas``)."""
    return isinstance(schema, dict) and "__fastavro_parsed" in schema and "__named_schemas" in schema


def read_body(
    data: bytes, start: int, writer: Any, reader: Any | None, ctx: SerdeContext, schema_name: str
) -> dict[str, Any]:
    buffer = BytesIO(data)
    buffer.seek(start)
    try:
        value = _read(buffer, writer, reader)
    except Exception as exc:
        raise ctx.decode_error(f"Avro body does not decode as {schema_name}: {exc}", data) from exc
    if buffer.tell() != len(data):
        raise ctx.decode_error(
            f"{len(data) - buffer.tell()} trailing bytes after a {schema_name} body", data
        )
    if not isinstance(value, dict):
        raise ctx.decode_error(f"{schema_name} is not a record schema", data)
    return value

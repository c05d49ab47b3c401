"""The Avro binary body shared by both framings: write strictly, read with schema resolution."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

import fastavro

from bus.errors import SerializationError
from bus.serde.avro_writer import Defer, compile_writer
from bus.serde.base import SerdeContext

# id(parsed schema) -> (the schema, kept so its id is not reused; its compiled writer or None)
_WRITERS: dict[int, tuple[Any, Callable[[Any], bytes] | None]] = {}


def encode_body(parsed_schema: Any, value: dict[str, Any], schema_name: str) -> bytes:
    """``value``'s Avro binary body: through the schema's compiled writer (``avro_writer``) when it
    covers the value, else through fastavro, as ``write_body``. Raises ``SerializationError``."""
    entry = _WRITERS.get(id(parsed_schema))
    if entry is None or entry[0] is not parsed_schema:
        entry = _WRITERS[id(parsed_schema)] = (parsed_schema, compile_writer(parsed_schema))
    if entry[1] is not None:
        try:
            return entry[1](value)
        except Defer:
            pass
    buffer = BytesIO()
    write_body(buffer, parsed_schema, value, schema_name)
    return buffer.getvalue()


def write_body(buffer: BytesIO, parsed_schema: Any, value: dict[str, Any], schema_name: str) -> None:
    try:
        # strict_allow_default: a field the schema does not know is a mapping bug, not something to drop
        # silently; a field left out takes its default (fastavro's strict=True would refuse that too, so a
        # field added with a default, as the contract allows, would break every producer not yet updated).
        fastavro.schemaless_writer(buffer, parsed_schema, value, strict_allow_default=True)
    except Exception as exc:  # fastavro raises ValueError, TypeError, KeyError, AttributeError...
        raise SerializationError(f"value does not match {schema_name}: {exc}") from exc


def read_body(
    data: bytes, start: int, writer: Any, reader: Any | None, ctx: SerdeContext, schema_name: str
) -> dict[str, Any]:
    buffer = BytesIO(data)
    buffer.seek(start)
    try:
        value = fastavro.schemaless_reader(buffer, writer, reader)
    except Exception as exc:
        raise ctx.decode_error(f"Avro body does not decode as {schema_name}: {exc}", data) from exc
    if buffer.tell() != len(data):
        raise ctx.decode_error(
            f"{len(data) - buffer.tell()} trailing bytes after a {schema_name} body", data
        )
    if not isinstance(value, dict):
        raise ctx.decode_error(f"{schema_name} is not a record schema", data)
    return value

"""JSON Schema builders for what the screen pop renders: each section declares its ``render_schema`` with these,
and identity's ``/openapi.json`` (``processors/identity/openapi.py``) is assembled from them."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

TEXT: Schema = {"type": "string"}
TIME: Schema = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC."}


def nullable(schema: Schema) -> Schema:
    """``schema`` or null (JSON Schema 2020-12, as OpenAPI 3.1 uses)."""
    return {"anyOf": [schema, {"type": "null"}]}


def closed(properties: dict[str, Schema], *, required: list[str] | None = None, description: str = "") -> Schema:
    """An object with only ``properties`` (``additionalProperties: false``: a field the view adds without declaring it
    fails ``tests/processors/identity/test_openapi.py``); ``required``: every property unless given."""
    schema: Schema = {"type": "object", "additionalProperties": False, "properties": properties,
                      "required": list(properties) if required is None else required}
    if description:
        schema["description"] = description
    return schema


def list_of(item: Schema, description: str = "") -> Schema:
    schema: Schema = {"type": "array", "items": item}
    if description:
        schema["description"] = description
    return schema


MONEY: Schema = closed({"amount_minor": {"type": "integer", "description": "In the currency's minor unit."},
                        "currency": {"type": "string", "description": "ISO 4217 code."}})

"""Reading a terminal's native fields: identifiers and texts (at most ``MAX_ID_CHARS``), ISO-8601 instants with
their UTC offset, and nested sections, each refused with the ``errors`` a terminal is answered with (the field's
name, and the code ``missing`` / ``bad_field`` / ``out_of_range``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.base import clock
from adapters.base.errors import RejectedInput
from adapters.branch import errors
from schemas.enums import IDENTIFIER_TYPES

MAX_ID_CHARS = 128
# Web-session identifiers never come from a counter terminal.
COUNTER_IDENTIFIER_TYPES = IDENTIFIER_TYPES - {"ANONYMOUS_ID", "USER_ID"}


def optional_text(container: dict[str, Any], field: str, label: str | None = None) -> str | None:
    value = container.get(field)
    name = label or field
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise errors.bad_field(name, "must be a string")
    result = str(value).strip()
    if len(result) > MAX_ID_CHARS:
        raise errors.bad_field(name, f"is longer than {MAX_ID_CHARS} characters")
    return result


def required_text(container: dict[str, Any], field: str, label: str | None = None) -> str:
    result = optional_text(container, field, label)
    if result is None:
        raise errors.missing(label or field)
    return result


def optional_instant(container: dict[str, Any], field: str, label: str | None = None) -> datetime | None:
    raw = container.get(field)
    name = label or field
    if raw in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise errors.bad_field(name, "is not an ISO-8601 date-time")
    if parsed.tzinfo is None:
        raise errors.bad_field(name, "must carry a UTC offset (terminals may be offline across time zones)")
    try:
        return clock.in_range(parsed, name, "event")
    except RejectedInput as exc:
        raise errors.EventRejected(f"'{name}' {exc.reason.split(' is ', 1)[-1]}", code="out_of_range") from exc


def required_instant(container: dict[str, Any], field: str, label: str | None = None) -> datetime:
    result = optional_instant(container, field, label)
    if result is None:
        raise errors.missing(label or field)
    return result


def section(event: dict[str, Any], name: str) -> dict[str, Any]:
    value = event.get(name)
    if not isinstance(value, dict):
        raise errors.missing(name) if value is None else errors.bad_field(name, "must be a JSON object")
    return value

"""Reading the fields of a Segment message: ids, timestamps, objects, and text maps for Avro."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from adapters.web import errors

MAX_ID_CHARS = 256


def text_id(message: Mapping[str, Any], field: str) -> str | None:
    """A Segment id field (userId, anonymousId, groupId, previousId...) as text; numbers are allowed."""
    value = message.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise errors.bad_field(field, "must be a string")
    text = str(value).strip()
    if len(text) > MAX_ID_CHARS:
        raise errors.bad_field(field, f"is longer than {MAX_ID_CHARS} characters")
    return text or None


def message_id(message: Mapping[str, Any]) -> str:
    """The sender's messageId; without one, a digest of the message so that a resend still dedupes."""
    given = text_id(message, "messageId")
    if given:
        return given
    canonical = json.dumps(message, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def timestamp(message: Mapping[str, Any], received_at: datetime) -> datetime:
    """When it happened: ``timestamp``, else ``originalTimestamp``, else when we received it."""
    for field in ("timestamp", "originalTimestamp"):
        raw = message.get(field)
        if raw in (None, ""):
            continue
        if not isinstance(raw, str):
            raise errors.bad_field(field, "must be an ISO-8601 date-time string")
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise errors.bad_field(field, "is not an ISO-8601 date-time") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return received_at


def obj(message: Mapping[str, Any], field: str) -> dict[str, Any]:
    value = message.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.bad_field(field, "must be a JSON object")
    return value


def text(value: Any) -> str | None:
    """A JSON value as Avro map text: strings as they are, other scalars as JSON, objects as compact JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def text_map(values: Mapping[str, Any], *, skip: Iterable[str] = ()) -> dict[str, str]:
    skipped = set(skip)
    result = {}
    for key, value in values.items():
        if key in skipped:
            continue
        rendered = text(value)
        if rendered is not None:
            result[str(key)] = rendered
    return result


def first_text(values: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = values.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


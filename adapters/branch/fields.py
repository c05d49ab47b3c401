"""Reading a terminal's native fields: identifiers and texts (at most ``MAX_ID_CHARS``), ISO-8601 instants with
their UTC offset, and nested sections, each refused with the ``errors`` a terminal is answered with (the field's
name, and the code ``missing`` / ``bad_field`` / ``out_of_range``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from adapters.base import clock
from adapters.base.errors import RejectedInput
from adapters.base.whole_ids import id_text
from adapters.branch import errors
from schemas.enums import IDENTIFIER_TYPES

MAX_ID_CHARS = 128
# Web-session identifiers never come from a counter terminal.
COUNTER_IDENTIFIER_TYPES = IDENTIFIER_TYPES - {"ANONYMOUS_ID", "USER_ID"}
# The ids of a counter event, by section ("": the event itself), that the contract types ``string`` or ``integer``
# (``adapters.branch.openapi``): read as text, a whole number as its decimal text, so ``5550001`` and ``"5550001"``
# are one id and one content (``one_spelling``), as the web adapter reads its ids (``adapters.base.whole_ids``).
TEXT_OR_NUMBER_FIELDS: dict[str, tuple[str, ...]] = {
    "": ("event_id", "agent_id"),
    "ticket": ("id", "number", "counter_id"),
    "transaction": ("id", "counter_id", "ticket_id"),
    "offer": ("offer_id",),
}
# Whole numbers the contract also takes as their digits (``"offer_version": "1"`` is version 1): digested as numbers.
NUMBER_OR_TEXT_FIELDS: dict[str, tuple[str, ...]] = {"offer": ("offer_version",)}
NOT_TEXT = "must be a string or a whole number"


def _number_of(value: Any) -> Any:
    """A version as it is digested: its digits as their number (``"1"``, ``" 1 "`` are 1), anything else as sent."""
    if type(value) is str and value.strip().isdigit():
        return int(value.strip())
    return value


def one_spelling(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """``event`` with every id of ``TEXT_OR_NUMBER_FIELDS`` as it is read (``id_text``: a whole number as its text,
    white space around it off) and every ``NUMBER_OR_TEXT_FIELDS`` value written in digits as its number: what its
    content digest is computed from, so a re-send under ``"5550001"`` of an event first sent under ``5550001`` or
    ``" 5550001"`` is a duplicate, not other content under a used id (``id_conflict``). ``event`` itself when it
    spells none otherwise (the common case), so the digest of an event of plain text ids is the one it always was."""
    result: dict[str, Any] | None = None
    for section in dict.fromkeys([*TEXT_OR_NUMBER_FIELDS, *NUMBER_OR_TEXT_FIELDS]):
        values = event if not section else event.get(section)
        if not isinstance(values, dict):
            continue
        changed = {name: read for name, read in _as_read(values, section).items() if read != values.get(name)
                   or type(read) is not type(values.get(name))}
        if not changed:
            continue
        result = result if result is not None else dict(event)
        if section:
            result[section] = {**values, **changed}
        else:
            result.update(changed)
    return event if result is None else result


def _as_read(values: Mapping[str, Any], section: str) -> dict[str, Any]:
    """The ids and numbers of ``section`` that ``values`` holds, each as ``one_spelling`` digests it (a value neither
    reads, such as a fraction, as sent: the event is refused for it)."""
    read: dict[str, Any] = {}
    for name in TEXT_OR_NUMBER_FIELDS.get(section, ()):
        value = values.get(name)
        if value is not None:
            text = id_text(value)
            read[name] = value if text is None else text
    for name in NUMBER_OR_TEXT_FIELDS.get(section, ()):
        if values.get(name) is not None:
            read[name] = _number_of(values[name])
    return read


def optional_text(container: dict[str, Any], field: str, label: str | None = None) -> str | None:
    value = container.get(field)
    name = label or field
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    result = id_text(value)  # a whole number is its text: 5550001 is "5550001"
    if result is None:
        raise errors.bad_field(name, NOT_TEXT)
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

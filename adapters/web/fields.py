"""Reading the fields of a Segment message: ids, timestamps, objects, and text maps for Avro."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from adapters.base import clock
from adapters.base.errors import RejectedInput
from adapters.base.whole_ids import texts_of, whole_text
from adapters.base.wire import MAX_INT_DIGITS
from adapters.web import errors

MAX_ID_CHARS = 256
# The fields of a message the contract types ``string`` or ``integer`` (``adapters.web.openapi``): read as text, a
# whole number as its decimal text, so ``424242`` and ``"424242"`` are one id, and one content (``one_spelling``).
TEXT_OR_NUMBER_FIELDS = ("messageId", "userId", "anonymousId", "event", "name", "groupId", "previousId")
# The ids of ``properties`` read so: a service request's case id, an offer's id and presentation. Not an offer's
# version: a number, not an id, which SDKs send as a number as often as as text; one spelling of it would change the
# digest, and so the event ids, of the messages already sent with the other (the event ids of those with text ids
# stay what they were, ``one_spelling``).
TEXT_OR_NUMBER_PROPERTIES = ("request_id", "case_id", "offer_id", "offerId", "presentation_id", "presentationId")
NOT_TEXT = (f"must be a string or a whole number (at most {MAX_INT_DIGITS} digits; written with a fraction or an "
            f"exponent, below 2^53)")


def one_spelling(message: Mapping[str, Any]) -> Mapping[str, Any]:
    """``message`` with every id it spells as a whole number (``TEXT_OR_NUMBER_FIELDS``, and
    ``TEXT_OR_NUMBER_PROPERTIES`` in ``properties``) as its text: what its content digest and a generated messageId
    are computed from, so a re-send under ``"424242"`` of a message first sent under ``424242`` is a duplicate, not
    another event under a used id. ``message`` itself when it spells none so (the common case: no copy), so the
    digest of a message of text ids is the one it always was."""
    changed = texts_of(message, TEXT_OR_NUMBER_FIELDS)
    properties = message.get("properties")
    if not isinstance(properties, dict):
        properties = {}
    in_properties = texts_of(properties, TEXT_OR_NUMBER_PROPERTIES) if properties else None
    if changed is None and in_properties is None:
        return message
    result = {**message, **(changed or {})}
    if in_properties is not None:
        result["properties"] = {**properties, **in_properties}
    return result


def text_id(message: Mapping[str, Any], field: str) -> str | None:
    """A Segment id field (userId, anonymousId, groupId, previousId...) as text; whole numbers are allowed
    (``whole_text``). ``MessageRejected`` ``bad_field`` for any other value or a text over ``MAX_ID_CHARS``."""
    value = message.get(field)
    if value is None or value == "":
        return None
    whole = whole_text(value)
    if whole is None:
        raise errors.bad_field(field, NOT_TEXT)
    text = whole.strip()
    if len(text) > MAX_ID_CHARS:
        raise errors.bad_field(field, f"is longer than {MAX_ID_CHARS} characters")
    return text or None


def message_id(message: Mapping[str, Any], call: str = "") -> str:
    """The sender's messageId; without one, a digest of the message *and its call type* (a page and a
    screen with the same body are two records), so that a resend of the same call still dedupes."""
    given = text_id(message, "messageId")
    if given:
        return given
    canonical = json.dumps([call, one_spelling(message)], sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def instant(message: Mapping[str, Any], field: str) -> datetime | None:
    """An ISO-8601 date-time field (naive means UTC) inside ``clock.EARLIEST..LATEST``, or None if absent."""
    raw = message.get(field)
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise errors.bad_field(field, "must be an ISO-8601 date-time string")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise errors.bad_field(field, "is not an ISO-8601 date-time") from exc
    try:
        return clock.in_range(parsed, field, "message")
    except RejectedInput as exc:
        raise errors.MessageRejected(f"'{field}' is outside {clock.EARLIEST.year}..{clock.LATEST.year} (UTC)",
                                     code="out_of_range") from exc


def timestamp(
    message: Mapping[str, Any], received_at: datetime, *, tolerance_s: float = clock.DEFAULT_FUTURE_TOLERANCE_S,
    source_system: str = "segment",
) -> tuple[datetime, datetime | None]:
    """When it happened, and the device's own time when that was corrected (else None).

    The device's time is ``timestamp``, else ``originalTimestamp``, else there is none and it happened
    when we received it. Segment's rule corrects it by the skew between ``sentAt`` and the receive time
    (``clock.segment_skew``); a time still ahead of the receive time beyond ``tolerance_s`` is moved
    back to it (``clock.future_skew``)."""
    device = instant(message, "timestamp") or instant(message, "originalTimestamp")
    if device is None:
        return received_at, None
    corrected = device + clock.segment_skew(instant(message, "sentAt"), received_at)
    if not clock.EARLIEST <= corrected < clock.LATEST:
        raise errors.MessageRejected("'timestamp' corrected by 'sentAt' falls outside the plausible range",
                                     code="out_of_range")
    corrected = clock.future_skew(corrected, received_at, tolerance_s=tolerance_s,
                                  source_system=source_system).apply(corrected)  # type: ignore[assignment]
    return corrected, (device if corrected != device else None)


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
    if isinstance(value, bool):
        return "true" if value else "false"
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return repr(value)  # what json.dumps writes for them, without its encoder's set-up
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def text_map(
    values: Mapping[str, Any], *, skip: Iterable[str] = (), only: Iterable[str] | None = None,
    into: dict[str, str] | None = None,
) -> dict[str, str]:
    """``values`` as Avro map text (``text``), without null values and the ``skip`` keys; ``only``: just
    these keys, in this order; ``into``: added to (and returned) instead of a new map."""
    result: dict[str, str] = {} if into is None else into
    if only is None and not skip:  # the common call: every item, without a key test
        for key, value in values.items():
            if type(value) is not str:  # text is taken as it is, without a call
                value = text(value)
                if value is None:
                    continue
            result[key if type(key) is str else str(key)] = value
        return result
    if only is not None and not skip:  # ``only`` alone (the page fields of every interaction): one lookup per key
        for key in only:
            value = values.get(key)
            if type(value) is not str:
                value = text(value)
                if value is None:
                    continue
            result[key if type(key) is str else str(key)] = value
        return result
    skipped = set(skip)  # not empty here
    keys = values if only is None else [key for key in only if key in values]
    for key in keys:
        if key in skipped:
            continue
        value = values[key]
        if type(value) is not str:
            value = text(value)
            if value is None:
                continue
        result[key if type(key) is str else str(key)] = value
    return result


def required_text(values: Mapping[str, Any], call: str, *names: str, prefix: str = "") -> str:
    """``first_text`` of ``names``, which the ``call`` needs. ``MessageRejected``: ``bad_field`` (``'event' must be a
    string``) when the first present one is not text, else ``missing_field`` (``"event": ["a"]`` was
    reported as missing). ``prefix`` names where the fields are (``properties.``)."""
    found = first_text(values, *names)
    if found is not None:
        return found
    present = next((name for name in names if values.get(name) not in (None, "")), None)
    if present is not None and whole_text(values[present]) is None:
        raise errors.bad_field(prefix + present, NOT_TEXT)
    raise errors.missing_field(call, prefix + names[0])


def limited_text(values: Mapping[str, Any], *names: str, limit: int, prefix: str = "properties.") -> str | None:
    """``first_text`` of ``names`` for a field with a length limit (a handoff's kind, team, summary:
    ``bus.handoff_limits``): the first present one must be text (or a whole number) of at most ``limit`` characters
    without its surrounding spaces, else ``MessageRejected`` ``bad_field`` naming it (``prefix`` + name), never its
    value; None when none is present."""
    for name in names:
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        whole = whole_text(value)
        if whole is None:
            raise errors.bad_field(prefix + name, NOT_TEXT)
        text = whole.strip()
        if len(text) > limit:
            raise errors.bad_field(prefix + name, f"is longer than {limit} characters")
        return text
    return None


def first_text(values: Mapping[str, Any], *names: str) -> str | None:
    """The first of ``names`` in ``values`` that is non-blank text or a whole number (``whole_text``), without its
    surrounding spaces; None when none is."""
    for name in names:
        text = whole_text(values.get(name))
        if text is not None and text.strip():
            return text.strip()
    return None


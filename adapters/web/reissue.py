"""A message the web hall refused only for its id, mapped again under an id derived from it, for an operator
(``omnibus deadletters redrive --new-id``).

A Segment SDK drops a message answered 400, so a message refused as ``id_conflict`` (another event under a used
``messageId``) or ``request_id_conflict`` (another service request under a used ``request_id``/``case_id``) is
only in its dead letter: nobody sends it again. Its content was fine, so it is mapped as the ingress maps it, from
the dead letter's value (the message as received, a batch's shared ``context`` merged in) and headers (the path,
hence the call type, and the write key's source), received at the time it failed, with the refused id replaced
by ``<id>:<8 hex>`` (``adapters.base.mapper.content_id`` of the message's content digest): the same message always
gets the same new id, hence the same event ids, so re-issuing it twice (or two dead letters of one message)
publishes events the processors drop as copies. The new id cannot be one a sender chose unless it put a digest
suffix in its own ids. The ids the mapper builds from the messageId (the handoff's, the interaction's) derive from
the original one, with one suffix: ``web:portal:tr-1:<8 hex>``, not ``web:portal:tr-1:<8 hex>:<8 hex>``; and that
suffix is the new messageId's (the refused message's digest, not that of the message with its new id: the printed
messageId ended otherwise than the handoff it opened). The case a request opens is among the new ids.

Only those two codes qualify: every other refusal is about the content, which a new id would not mend (the sender
corrects and sends it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from adapters.base.handoff_request import HANDOFF_CREATED
from adapters.base.http import PATH_HEADER
from adapters.base.mapper import MappedRecord, content_id
from adapters.web import fields
from adapters.web.mapper import CALL_TYPES, SegmentMapper, message_digest
from bus.errors import OmnibusError

# RejectedInput codes of a message refused only for an id it carries (``adapters.base.ingest.id_conflict``,
# ``adapters.web.errors.request_id_conflict``)
REISSUED_CODES = frozenset({"id_conflict", "request_id_conflict"})
SOURCE_HEADER = "segment.source"  # set by ``adapters.web.ingress._raw_message``, with the path (``PATH_HEADER``)
CASE_FIELDS = ("request_id", "case_id")  # a service request's own case id, as ``SegmentMapper._handoff`` reads it


class NotReissuable(OmnibusError):
    """The dead letter's value or headers are not a web message this adapter refused (no JSON object, no source)."""


def reissued(code: str, value: bytes, headers: Mapping[str, str], failed_at: datetime,
             mapper: SegmentMapper) -> tuple[dict[str, str], MappedRecord]:
    """The new ids (field name -> id) and the record of a message refused with ``code`` (one of
    ``REISSUED_CODES``): for ``id_conflict`` a new ``messageId``, for ``request_id_conflict`` a new ``messageId``
    and case id (the one it gave, ``request_id`` or ``case_id``: a case of its own, the first one's request
    untouched). Raises ``NotReissuable``, or ``adapters.web.errors.MessageRejected`` when the message is refused
    again (settings changed since, e.g. an event name no longer configured)."""
    if code not in REISSUED_CODES:
        raise NotReissuable(f"a message refused as {code} is refused for its content: a new id would not mend it")
    source = headers.get(SOURCE_HEADER)
    try:
        message: Any = json.loads(value)
    except ValueError as exc:
        raise NotReissuable("the dead letter's value is not a JSON message") from exc
    # a messageId the portal sent as a whole number is its text, as the mapper read it (``fields.whole_text``)
    message_id = fields.whole_text(message.get("messageId")) if isinstance(message, dict) else None
    if not source or not message_id:
        raise NotReissuable("the dead letter is not a web message with a messageId and its write key's source")
    call = CALL_TYPES.get(headers.get(PATH_HEADER, "").rsplit("/", 1)[-1])  # None for /v1/batch: its "type"
    kind = call or message.get("type")
    digest = message_digest(message, CALL_TYPES.get(kind) if isinstance(kind, str) else None)
    new_ids = {"messageId": content_id(message_id, digest)}
    changed = {**message, "messageId": new_ids["messageId"]}
    if code == "request_id_conflict":
        properties = message.get("properties")
        given = {name: (fields.whole_text(properties.get(name)) or "").strip() for name in CASE_FIELDS} if isinstance(
            properties, dict) else {}
        case_field = next((name for name, text in given.items() if text), None)
        if case_field is None:
            raise NotReissuable("the dead letter's message names no request_id or case_id")
        new_ids[case_field] = content_id(given[case_field], digest)
        changed["properties"] = {**properties, case_field: new_ids[case_field]}
    record = mapper(changed, source=source, call=call, received_at=failed_at, reissued_from=message_id,
                    reissued_digest=digest)
    return {**new_ids, **opened(record, new_ids)}, record


def opened(record: MappedRecord, named: Mapping[str, str]) -> dict[str, str]:
    """``handoff_id`` -> the id of the case ``record`` opens, unless ``named`` has it already (a request's new case id
    is its handoff's): what the operator looks the re-issued request up by."""
    created = [event.event.value["handoff_id"] for event in record.events if event.event.schema == HANDOFF_CREATED]
    return {"handoff_id": created[0]} if created and created[0] not in named.values() else {}

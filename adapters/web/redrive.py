"""A web message refused at the web hall's ingress, mapped again from its sealed body (``omnibus deadletters
redrive``): as ``_single``/``_batch`` map it, with the source its write key named and the call its path
named (a batch's message: its ``type``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from adapters.base.errors import BAD_JSON, RejectedInput
from adapters.base.http import PATH_HEADER
from adapters.base.redrive import NotRemappable, events_of
from adapters.web.mapper import CALL_TYPES, SegmentMapper
from adapters.web.reissue import SOURCE_HEADER
from bus.producer import Outgoing


def remapped(body: bytes, headers: Mapping[str, str], received_at: datetime,
             mapper: SegmentMapper) -> tuple[Outgoing, ...]:
    """The events of the message ``body``; raises ``NotRemappable`` (no source, a whole batch) or ``RejectedInput``
    (refused again)."""
    source = headers.get(SOURCE_HEADER)
    if not source:
        raise NotRemappable("the dead letter names no write key's source (refused before the write key was read)")
    try:
        message: Any = json.loads(body)
    except ValueError:
        raise RejectedInput("the body is not JSON", code=BAD_JSON) from None
    call = CALL_TYPES.get(headers.get(PATH_HEADER, "").rsplit("/", 1)[-1])  # None for /v1/batch: its "type"
    if call is None and isinstance(message, dict) and isinstance(message.get("batch"), list):
        raise NotRemappable("a whole batch refused before its messages were read: the sender must send it again")
    return events_of([mapper(message, source=source, call=call, received_at=received_at)], headers)

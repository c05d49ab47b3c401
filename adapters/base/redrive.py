"""What every adapter's re-mapping of a refused body shares (``omnibus deadletters redrive``).

Each HTTP ingress maps a re-driven body with its own mapper (``adapters.web.redrive``, ``adapters.call_center.redrive``,
``adapters.branch.redrive``), from the body as it came (opened from its seal, corrected) and the context its dead
letter names (``adapters.base.http.note_context``). Each raises ``RejectedInput`` when the body is refused again, and
``NotRemappable`` when the dead letter does not say enough to map it (a body refused before its sender was known).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from adapters.base.errors import RejectedInput
from adapters.base.mapper import MappedRecord
from bus.dead_letter import REFUSED_PART_CONTEXT, part_words
from bus.errors import OmnibusError
from bus.producer import Outgoing


class NotRemappable(OmnibusError):
    """The dead letter lacks what mapping its body needs; the message says what."""


def events_of(records: Iterable[MappedRecord | None], context: Mapping[str, str]) -> tuple[Outgoing, ...]:
    """The events of ``records`` in order (None: a record the mapper skips, as an older CTR version).

    ``context``: the dead letter's (``processors.deadletters.sealed``); when it names the part the dead letter is about
    (``REFUSED_PART_CONTEXT``: a handoff request, a follow-up, an offer answer, a card status published without), raises
    ``RejectedInput`` with the part's reason if a record still drops that part: re-driven, the record would be
    published again without it, and the request lost a second time."""
    part = context.get(REFUSED_PART_CONTEXT)
    kept = [record for record in records if record is not None]
    for record in kept:
        for dropped in record.dropped_parts:
            if dropped.part == part:
                raise RejectedInput(f"the {part_words(part)} is refused again: {dropped.refusal.reason}",
                                    code=dropped.refusal.code, status=dropped.refusal.status)
    return tuple(event for record in kept for event in record.events)

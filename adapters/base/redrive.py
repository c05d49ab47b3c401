"""What every adapter's re-mapping of a refused body shares (``omnibus deadletters redrive``; tester29 F5).

Each HTTP ingress maps a re-driven body with its own mapper (``adapters.web.redrive``, ``adapters.call_center.redrive``,
``adapters.branch.redrive``), from the body as it came (opened from its seal, corrected) and the context its dead
letter names (``adapters.base.http.note_context``). Each raises ``RejectedInput`` when the body is refused again, and
``NotRemappable`` when the dead letter does not say enough to map it (a body refused before its sender was known).
"""

from __future__ import annotations

from collections.abc import Iterable

from adapters.base.mapper import MappedRecord
from bus.errors import OmnibusError
from bus.producer import Outgoing


class NotRemappable(OmnibusError):
    """The dead letter lacks what mapping its body needs; the message says what."""


def events_of(records: Iterable[MappedRecord | None]) -> tuple[Outgoing, ...]:
    """The events of ``records`` in order (None: a record the mapper skips, as an older CTR version)."""
    return tuple(event for record in records if record is not None for event in record.events)

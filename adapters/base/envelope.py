"""Building the ``omnibus.common.Envelope`` every adapter event carries: ``bus.envelope`` does it.

Event ids are derived from the source's own id (UUID v5), so the same native record mapped twice
yields the same event id: downstream processors dedupe on it even if an adapter crashed between
Kafka's acknowledgement and remembering the source id, or a re-send reached another replica. Where the
sender chooses ids it may reuse for another record (the web hall, the counters), the record's content
digest goes into the id too (``MappedRecord.content_digest``), so that other record is not dropped as a
copy downstream (F1).
"""

from __future__ import annotations

from bus.envelope import event_id
from bus.envelope import source_envelope as make_envelope

__all__ = ["event_id", "make_envelope"]

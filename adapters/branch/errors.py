"""The branch adapter's error policy, on top of ``adapters.base.errors``.

- Retried by the terminal: Kafka did not acknowledge -> 503 + Retry-After (``Unavailable``). The
  counter agent backs off and re-sends; the adapter dedupes on (terminal id, client event id).
- Dead-lettered, 400 to the terminal: a body that is not an upload (bad JSON, no terminal/branch id,
  no events, over 512 KB or 1000 events, a key beside them), or single events that are malformed (unknown kind, no
  event_id, missing ticket/transaction fields, bad timestamps or identifiers, a field the API does not declare
  there: ``unknown_field``, naming its path and where a field of that name belongs).
- Mixed uploads: good events are published first (in upload order), each bad one is dead-lettered on
  its own, and the answer is 400 with ``accepted`` (event ids) and ``rejected`` (index, event_id,
  reason). The agent then marks the accepted ones sent and the rejected ones rejected, so one bad event
  never blocks a terminal's journal and nothing is lost.
- Not our data (401, not dead-lettered): no bearer token, an unknown one, or one of another terminal.
- Fatal at start-up (``BranchConfigError``): no terminal token configured.
"""

from __future__ import annotations

from adapters.base.errors import UNKNOWN_FIELD, RejectedInput
from bus.errors import ConfigError


class BranchConfigError(ConfigError):
    """The adapter cannot run with these settings."""


class EventRejected(RejectedInput):
    """One counter event is malformed; ``code`` is a bounded label for metrics."""


def missing(field: str) -> EventRejected:
    return EventRejected(f"missing '{field}'", code="missing_field")


def bad_field(field: str, why: str) -> EventRejected:
    return EventRejected(f"'{field}' {why}", code="bad_field")


def unknown_field(reason: str) -> EventRejected:
    """A field the counter API does not declare there (``adapters.base.closed_fields`` gives the reason)."""
    return EventRejected(reason, code=UNKNOWN_FIELD)


def unknown_kind(kind: object, known: list[str]) -> EventRejected:
    return EventRejected(
        f"unknown event kind {ascii(kind)[:60]}: expected one of {', '.join(known)}", code="unknown_kind"
    )


def bad_upload(detail: str) -> RejectedInput:
    return RejectedInput(detail, code="bad_upload")

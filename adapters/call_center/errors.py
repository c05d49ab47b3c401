"""Error policy of the call-center adapter (on top of ``adapters.base.errors``).

- A record that cannot be a call (missing ContactId, unparseable time, wrong column count, a
  TaskRouter field that is not what Twilio sends) is ``RejectedInput``: 4xx to the sender, the record's
  bytes to the dead-letter topic. In a batch (JSON array, JSON lines, Firehose delivery, several CSV
  lines) only the bad records are refused; the others are published and the answer lists the refusals.
- An unknown access key or a bad ``X-Twilio-Signature`` is ``Unauthorized`` (401, not dead-lettered).
- Kafka not acknowledging is ``Unavailable`` (503 + Retry-After): nothing of that request counts as
  accepted, and the sender's retry is deduped on the source's own ids.
- A state store (SQLite) that cannot be written is a fault of this host: it propagates (500), nothing
  is acknowledged, and the adapter keeps serving other requests.
"""

from __future__ import annotations

from adapters.base.errors import RejectedInput, Unauthorized, Unavailable

__all__ = ["RejectedInput", "Unauthorized", "Unavailable", "missing", "malformed"]


def missing(field: str, source: str, why: str | None = None) -> RejectedInput:
    """``CTR: required field ContactId is missing``, or with ``why`` ``CTR: field Attributes.omnibus_handoff_kind is
    required to open a handoff (...)`` (a field required only with another)."""
    reason = f"{source}: field {field} {why}" if why else f"{source}: required field {field} is missing"
    return RejectedInput(reason, code="missing_field")


def malformed(field: str, source: str, detail: str) -> RejectedInput:
    return RejectedInput(f"{source}: field {field} is malformed ({detail})", code="malformed_field")

"""The web hall's error policy, on top of ``adapters.base.errors``.

- Retried by the sender: Kafka did not acknowledge -> 503 + Retry-After (``Unavailable``). The
  Segment SDKs retry 5xx with back-off, and a retry is harmless: records are deduped on messageId.
- Dead-lettered, 4xx to the sender (``RejectedInput``): a body that is not JSON, too large, or not a
  Segment call (400/413/415); a single message that is malformed (no userId/anonymousId, a track without
  ``event``, a bad timestamp, an offer event without offer id/version, over 32 KB).
- Mixed batches: the good messages are published and acknowledged by Kafka first, then each bad one is
  dead-lettered on its own (its JSON is the dead letter's value) and the request is answered 400 with
  ``accepted`` (index and messageId of each message on Kafka, published now or before), ``duplicates`` (how many
  of those were a re-send, published nothing) and ``rejected`` (index, messageId, reason) so the sender can
  tell exactly what happened, also when one messageId is in both (its first event accepted, another refused).
  This matches Segment, which keeps the good events of a batch; the SDKs
  drop a batch answered 400, and nothing is lost: every message is either on its topic or dead-lettered.
- Not our data (401, not dead-lettered): no write key, or one this adapter does not know.
- Fatal at start-up (``WebConfigError``): no write key configured, or settings that name unknown types.
"""

from __future__ import annotations

from adapters.base.errors import RejectedInput
from bus.errors import ConfigError


class WebConfigError(ConfigError):
    """The adapter cannot run with these settings."""


class MessageRejected(RejectedInput):
    """One Segment message is malformed; ``code`` is a bounded label for metrics."""


def missing_identity() -> MessageRejected:
    return MessageRejected("message needs a userId or an anonymousId", code="missing_identity")


def missing_field(call: str, field: str) -> MessageRejected:
    return MessageRejected(f"{call} call is missing '{field}'", code=f"missing_{field.rsplit('.', 1)[-1].lower()}")


def request_id_conflict(field: str, value: str) -> MessageRejected:
    """A service request under a case id (``properties.request_id``/``case_id``) this adapter process already
    published with another request: the handoff tracker would refuse it as "a handoff with this id already exists"
    after a 200, and its text would reach the back office only as a dead letter."""
    return MessageRejected(
        f"properties.{field} {value[:100]!r} was already used for another service request (other summary, kind, "
        "facts or customer): one case id names one request; send the new request with a case id of its own, or as "
        "the same request unchanged", code="request_id_conflict")


def bad_field(field: str, why: str) -> MessageRejected:
    return MessageRejected(f"'{field}' {why}", code="bad_field")


def too_large(size: int, limit: int) -> MessageRejected:
    return MessageRejected(f"message of {size} bytes exceeds the {limit}-byte limit per event", code="too_large")


def unknown_type(kind: object) -> MessageRejected:
    return MessageRejected(
        f"unknown message type {ascii(kind)[:60]}: expected identify, track, page, screen, group or alias",
        code="unknown_type",
    )


def bad_shape(detail: str) -> RejectedInput:
    return RejectedInput(detail, code="bad_shape")


def unsupported_media_type(content_type: str) -> RejectedInput:
    return RejectedInput(
        f"unsupported Content-Type {content_type[:60]!r}: send application/json or text/plain JSON",
        code="unsupported_media_type", status=415,
    )

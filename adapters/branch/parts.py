"""A counter event's optional parts, each read to its value or to its refusal: the handoff the clerk asked for
(``transaction.handoff``), the case the customer came back about (``transaction.follow_up``) and the offer answer
(``offer``). A refused part costs only itself: the event is published without it and the part is dead-lettered
(``MappedRecord.dropped_parts``), keyed as the part itself so that a re-upload of the event, and a
re-drive of the part (``adapters.branch.redrive``), name the same part."""

from __future__ import annotations

from typing import Any

from adapters.base.errors import RejectedInput
from adapters.base.handoff_follow_up import FollowUp
from adapters.base.handoff_request import BadHandoffRequest, HandoffRequest, handoff_id
from adapters.base.identifiers import Identifier
from adapters.base.mapper import FOLLOW_UP, HANDOFF, OFFER, DroppedPart
from adapters.base.offer_disposition import BadDisposition, OfferDisposition
from adapters.branch import errors


def handoff_request(raw: Any) -> tuple[HandoffRequest | None, RejectedInput | None]:
    """The handoff the clerk asked for, or the refusal of a request that cannot open one (a summary without the
    kind): the transaction is published without it (``MappedRecord.dropped_parts``)."""
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        return None, errors.bad_field("transaction.handoff", 'must be {"kind": ..., "summary": ..., "team": ...}')
    try:
        return HandoffRequest.parse(raw.get("kind"), raw.get("team"), raw.get("summary")), None
    except BadHandoffRequest as exc:
        return None, errors.bad_field(f"transaction.handoff.{exc.field.removeprefix('omnibus_handoff_')}", str(exc))


def follow_up(raw: Any) -> tuple[FollowUp | None, RejectedInput | None]:
    """The case the customer came back about, or the refusal of a malformed section: the transaction is
    published without it, as without a malformed ``handoff`` section."""
    try:
        return FollowUp.parse(raw), None
    except BadHandoffRequest as exc:
        field = f"transaction.follow_up.{exc.field}" if exc.field else "transaction.follow_up"
        return None, errors.bad_field(field, str(exc))


def offer(event: dict[str, Any], found: list[Identifier]) -> tuple[OfferDisposition | None, RejectedInput | None]:
    """The offer answer the clerk recorded, or the refusal of one that is malformed or names no customer: the
    event is published without it (``MappedRecord.dropped_parts``; as a handoff request, an optional part
    costs only itself)."""
    raw = event.get("offer")
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        return None, errors.bad_field("offer", "must be a JSON object")
    try:
        answer = OfferDisposition.parse(raw.get("offer_id"), raw.get("offer_version"), raw.get("response"))
    except BadDisposition as exc:
        field = {"offer_response": "response"}.get(exc.field, exc.field)
        return None, errors.bad_field(f"offer.{field}", str(exc))
    if answer is not None and not found:
        return None, errors.bad_field("offer", "an offer answer needs the customer's identifiers")
    return answer, None


def dropped_parts(
    read: dict[str, Any], offer_refused: RejectedInput | None, terminal_id: str, presentation_id: str,
) -> tuple[DroppedPart, ...]:
    """The refused parts of one event (``read``: its transaction's fields, ``sections.transaction_fields``), each
    keyed as the part itself would be: the handoff ``counter:<terminal>:<transaction id>``, the follow-up
    ``follow-up:<terminal>:<transaction id>``, the offer answer its presentation id."""
    transaction_id = read.get("transaction_id", "")
    return tuple(DroppedPart(part, refusal, key) for part, refusal, key in (
        (HANDOFF, read.get("handoff_refused"), handoff_id("counter", terminal_id, transaction_id)),
        (FOLLOW_UP, read.get("follow_up_refused"), handoff_id("follow-up", terminal_id, transaction_id)),
        (OFFER, offer_refused, presentation_id)) if refusal is not None)

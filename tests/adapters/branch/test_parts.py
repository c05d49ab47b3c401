"""A counter event's optional parts read to a value or a refusal, and a refused part keyed as the part itself
(the mapper's view of them: ``test_mapper_handoff``, ``test_mapper_follow_up``, ``test_mapper_offer``)."""

from __future__ import annotations

from adapters.base.handoff_request import handoff_id
from adapters.base.mapper import FOLLOW_UP, HANDOFF, OFFER
from adapters.branch import parts
from adapters.branch.errors import EventRejected

PHONE = {"type": "PHONE", "value": "+33612345678"}


def test_absent_parts_are_neither_a_value_nor_a_refusal() -> None:
    assert parts.handoff_request(None) == (None, None)
    assert parts.follow_up(None) == (None, None)
    assert parts.offer({}, []) == (None, None)


def test_each_part_at_fault_is_refused_under_its_own_path() -> None:
    assert parts.handoff_request({"summary": "no kind"})[1].reason.startswith("'transaction.handoff.kind'")
    assert parts.handoff_request([])[1].reason.startswith("'transaction.handoff' must be {")
    assert parts.follow_up({"summary": "again"})[1].reason.startswith("'transaction.follow_up.handoff_id'")
    assert parts.follow_up("WEB-1")[1].reason.startswith("'transaction.follow_up' must be {")
    assert parts.offer({"offer": {"offer_id": "tv", "offer_version": 1, "response": "maybe"}}, [PHONE])[
        1].reason.startswith("'offer.response'")


def test_an_offer_answer_without_the_customers_identifiers_is_refused_a_pitch_is_read() -> None:
    answer = {"offer": {"offer_id": "tv", "offer_version": 1, "response": "accepted"}}
    value, refused = parts.offer(answer, [])
    assert value is None and isinstance(refused, EventRejected)
    assert "needs the customer's identifiers" in refused.reason
    value, refused = parts.offer(answer, [PHONE])
    assert value is not None and refused is None


def test_a_refused_part_is_keyed_as_the_part_itself_so_every_upload_of_the_visit_names_it_alike() -> None:
    handoff, follow_up, offer = (EventRejected(f"'{what}' bad", code="bad_field")
                                 for what in ("handoff", "follow_up", "offer"))
    read = {"transaction_id": "TX-9", "handoff_refused": handoff, "follow_up_refused": follow_up}
    dropped = parts.dropped_parts(read, offer, "CT-0142-03", "presentation-1")
    assert [(d.part, d.refusal, d.key) for d in dropped] == [
        (HANDOFF, handoff, handoff_id("counter", "CT-0142-03", "TX-9")),
        (FOLLOW_UP, follow_up, handoff_id("follow-up", "CT-0142-03", "TX-9")),
        (OFFER, offer, "presentation-1"),
    ]
    assert parts.dropped_parts(read, offer, "CT-0142-03", "presentation-1") == dropped
    assert parts.dropped_parts({"transaction_id": "TX-9"}, None, "CT-0142-03", "presentation-1") == ()

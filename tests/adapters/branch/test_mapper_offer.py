"""A counter clerk's recorded answer to an offer reaches Kafka like the web hall's."""

from __future__ import annotations

import copy

import pytest

from tests.adapters.branch.support import sample
from tests.adapters.branch.test_mapper import by_schema, mapped


def with_offer(offer: dict | None, name: str = "transaction_with_identifiers") -> dict:
    upload = copy.deepcopy(sample(name))
    upload["events"][0]["offer"] = offer
    return upload


def test_a_recorded_acceptance_becomes_offer_responded() -> None:
    record = mapped(with_offer({"offer_id": "fibre-upgrade", "offer_version": 2, "response": "accepted"}))
    (out,) = [o for o in record.events if o.event.schema == "omnibus.marketing.OfferResponded"]
    assert out.topic == "omnibus.marketing.responses.v1"
    value = out.event.value
    assert (value["offer_id"], value["offer_version"], value["response"], value["channel"]) == (
        "fibre-upgrade", 2, "ACCEPTED", "BRANCH")
    assert value["customer_identifiers"] and out.key.startswith(value["customer_identifiers"][0]["type"])


def test_every_event_of_a_counter_record_shares_one_correlation_so_the_answer_names_its_visit() -> None:
    """tester19 F10: the offers processor gives an answer to the customer identity placed its visit on, found by the
    correlation id the answer shares with the visit's InteractionRecorded (processors/offers/intake.placement_key)."""
    record = mapped(with_offer({"offer_id": "green-tariff", "offer_version": 1, "response": "declined"}))
    envelopes = [o.event.value["envelope"] for o in record.events]
    (correlation,) = {e["correlation_id"] for e in envelopes}  # the first mapped event's id
    assert len(envelopes) > 2 and correlation in {e["event_id"] for e in envelopes}
    assert len({e["event_id"] for e in envelopes}) == len(envelopes)


def test_a_pitch_without_answer_is_offer_presented() -> None:
    shown = by_schema(mapped(with_offer({"offer_id": "tv", "offer_version": 1, "response": "presented"})))
    assert shown["OfferPresented"]["presentation_id"].startswith("counter:")


def test_no_offer_section_no_offer_event() -> None:
    assert not [o for o in mapped("transaction_with_identifiers").events if "marketing" in o.topic]


@pytest.mark.parametrize(("offer", "name", "fragment"), [
    ({"offer_id": "tv", "offer_version": "x", "response": "accepted"}, "transaction_with_identifiers",
     "'offer.offer_version'"),
    ({"offer_id": "tv", "offer_version": 1, "response": "perhaps"}, "transaction_with_identifiers", "'offer.response'"),
    ({"offer_version": 1, "response": "accepted"}, "transaction_with_identifiers", "'offer.offer_id'"),
    ("tv", "transaction_with_identifiers", "'offer' must be a JSON object"),
    ({"offer_id": "tv", "offer_version": 1, "response": "declined"}, "transaction_failed_anonymous",
     "'offer' an offer answer needs the customer's identifiers"),
    ({"offer_id": "tv", "offer_version": 0, "response": "declined"}, "ticket_issued_machine", "'offer.offer_version'"),
])
def test_a_bad_offer_section_costs_only_the_offer(offer: object, name: str, fragment: str) -> None:
    """The same loss as tester28 F6's handoff: a malformed offer answer, or one naming no customer, refused the whole
    visit. The visit is published without it, and its refusal is listed (``dropped_offers``) and dead-lettered."""
    record = mapped(with_offer(offer, name))  # type: ignore[arg-type]
    assert not [o for o in record.events if "marketing" in o.topic]
    assert [o for o in record.events if o.topic == "omnibus.contact.events.v1"]
    ((part, refused),) = [(dropped.part, dropped.refusal) for dropped in record.dropped_parts]
    assert (part, refused.code) == ("offer", "bad_field") and refused.reason.startswith(fragment), refused
    assert "perhaps" not in refused.reason


def _upload(response: str, event_id: str = "d4fab2a5-8e6c-4b1d-8f3a-5b7c9d1e3f44", amount: int = 4990) -> dict:
    """The sample transaction recording ``response``, uploaded as ``event_id`` (a corrected upload: another)."""
    upload = with_offer({"offer_id": "fibre-upgrade", "offer_version": 2, "response": response})
    upload["events"][0]["event_id"] = event_id
    upload["events"][0]["transaction"]["amount"]["amount_minor"] = amount
    return upload


def _offer(upload: dict) -> dict:
    (value,) = [o.event.value for o in mapped(upload).events if o.event.schema.startswith("omnibus.marketing.")]
    return value


def test_a_corrected_transaction_with_another_answer_is_a_new_event_of_the_same_pitch() -> None:
    """The clerk corrects the transaction (another event id, the amount fixed) and the answer with it: the answer
    has an event id of its own and names the transaction's pitch, which the KPIs and the offer processor revise
    (``bus.offer_presentations.pitch_of``) instead of counting a second presentation."""
    first, corrected = _offer(_upload("presented")), _offer(_upload("accepted", "e-corrected", amount=5990))
    assert first["presentation_id"] == corrected["presentation_id"] == "counter:CT-0142-03:TX-CT-0142-03-000981"
    assert first["envelope"]["event_id"] != corrected["envelope"]["event_id"]
    assert corrected["response"] == "ACCEPTED"


def test_a_corrected_transaction_with_the_same_answer_repeats_its_event() -> None:
    """Only the amount was corrected: the answer is a copy of the one published (dropped by its event id)."""
    ids = {_offer(upload)["envelope"]["event_id"] for upload in (
        _upload("declined"), _upload("declined"), _upload("declined", "e-corrected", amount=5990))}
    assert len(ids) == 1


"""A counter clerk's recorded answer to an offer reaches Kafka like the web hall's."""

from __future__ import annotations

import copy

import pytest

from adapters.base.errors import RejectedInput
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


@pytest.mark.parametrize(("offer", "fragment"), [
    ({"offer_id": "tv", "offer_version": "x", "response": "accepted"}, "offer.offer_version"),
    ({"offer_id": "tv", "offer_version": 1, "response": "perhaps"}, "offer.response"),
    ("tv", "offer"),
])
def test_a_bad_offer_section_is_refused(offer: object, fragment: str) -> None:
    with pytest.raises(RejectedInput, match=fragment):
        mapped(with_offer(offer))  # type: ignore[arg-type]


def test_an_answer_needs_identifiers() -> None:
    with pytest.raises(RejectedInput, match="identifiers"):
        mapped(with_offer({"offer_id": "tv", "offer_version": 1, "response": "declined"}, "transaction_failed_anonymous"))

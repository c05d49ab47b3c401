"""An agent's recorded answer to an offer (contact / task attributes) reaches Kafka like the web hall's."""

from __future__ import annotations

import copy
import json

import pytest

from adapters.call_center import mapper_ctr, mapper_taskrouter
from adapters.call_center.errors import RejectedInput
from adapters.call_center.state import Timeline
from tests.adapters.call_center.support import context, sample

OFFER = {"offer_id": "fibre-upgrade", "offer_version": "3", "offer_response": "declined"}


def offer_events(record) -> list:  # type: ignore[no-untyped-def]
    return [o for o in record.events if o.event.schema.startswith("omnibus.marketing.")]


def test_connect_contact_attributes_carry_the_answer() -> None:
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), **OFFER}
    (out,) = offer_events(mapper_ctr.map_ctr(ctr, context()))
    value = out.event.value
    assert out.topic == "omnibus.marketing.responses.v1" and out.event.schema.endswith("OfferResponded")
    assert (value["offer_id"], value["offer_version"], value["response"], value["channel"]) == (
        "fibre-upgrade", 3, "DECLINED", "CALL_CENTER")
    assert value["agent_id"] and value["customer_identifiers"][0]["type"] == "PHONE"
    # a later version of the same CTR repeats the same event id: the answer counts once
    again = copy.deepcopy(ctr)
    again["LastUpdateTimestamp"] = "2030-01-01T00:00:00Z"
    assert offer_events(mapper_ctr.map_ctr(again, context()))[0].event.value["envelope"]["event_id"] == \
        value["envelope"]["event_id"]


def test_the_answer_shares_the_correlation_of_the_calls_contact_events() -> None:
    """The offers processor gives the answer to the customer identity placed the call's InteractionRecorded on, found
    by this shared correlation id (processors/offers/intake.placement_key)."""
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), **OFFER}
    record = mapper_ctr.map_ctr(ctr, context())
    (answer,) = offer_events(record)
    (contact,) = [o for o in record.events if o.event.schema == "omnibus.contact.InteractionRecorded"]
    assert answer.event.value["envelope"]["correlation_id"] == contact.event.value["envelope"]["correlation_id"]


def test_without_offer_attributes_nothing_is_added() -> None:
    assert not offer_events(mapper_ctr.map_ctr(sample("ctr_inbound_answered.json"), context()))


def test_a_half_recorded_answer_is_refused() -> None:
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), "offer_id": "fibre-upgrade", "offer_response": "accepted"}
    with pytest.raises(RejectedInput, match="offer_version"):
        mapper_ctr.map_ctr(ctr, context())


def test_taskrouter_task_attributes_carry_the_answer() -> None:
    terminal = copy.deepcopy(sample("taskrouter_answered.json")[-1])
    terminal["TaskAttributes"] = json.dumps(json.loads(terminal["TaskAttributes"]) | {**OFFER, "offer_response": "accepted"})
    (out,) = offer_events(mapper_taskrouter.map_task(terminal, Timeline(), context("lyon")))
    assert out.event.value["response"] == "ACCEPTED"

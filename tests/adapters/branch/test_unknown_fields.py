"""tester32 F8: the counter API refuses fields it does not declare where they were put, instead of answering 200
and losing them (an ``offer`` section under ``transaction`` was a pitch lost, and the cross-channel caps missed it).

The kind: every closed object of the upload (the upload, an event, its ticket, transaction, amount, handoff,
follow-up, offer, identifiers, customer) refuses a key it does not declare, per event (400, ``rejected`` with code
``unknown_field``, the event dead-lettered, the others published), naming the field's path and, for a field
declared elsewhere, where it belongs.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import jsonschema
import pytest
from aiohttp.test_utils import TestClient

from adapters.base.errors import RejectedInput
from adapters.branch.config import BranchSettings
from adapters.branch.ingress import UPLOAD_PATH, BranchIngress
from adapters.branch.mapper import CounterMapper
from adapters.branch.openapi import OPENAPI
from bus.config import TopicSettings
from tests.adapters.branch.support import TOKENS, branch_settings, sample
from tests.adapters.branch.test_mapper import by_schema, mapped
from tests.adapters.web.support import StandInPublisher
from tests.support.http import adapter_client

OFFER = {"offer_id": "tarjeta-oro-2026", "offer_version": 1, "response": "presented"}


def reported(**changes: Any) -> dict[str, Any]:
    """The reported upload (a transaction with the customer's identifiers), its event changed by ``changes``: a
    value of None deletes the key; ``transaction`` and ``ticket`` values are merged into those sections."""
    upload = copy.deepcopy(sample("transaction_with_identifiers"))
    event = upload["events"][0]
    for key, value in changes.items():
        if key in ("transaction", "ticket"):
            event[key] = {**event.get(key, {}), **value}
        elif value is None:
            event.pop(key, None)
        else:
            event[key] = value
    return upload


def refusal(upload: dict[str, Any]) -> RejectedInput:
    with pytest.raises(RejectedInput) as raised:
        mapped(upload)
    assert raised.value.code == "unknown_field"
    return raised.value


def test_the_reported_offer_under_transaction_is_refused_saying_where_it_belongs() -> None:
    reason = refusal(reported(transaction={"offer": OFFER})).reason
    assert reason == "unknown field 'transaction.offer': 'offer' belongs at the event's level, not in 'transaction'"
    # where it belongs, the same offer is published
    assert "OfferPresented" in by_schema(mapped(reported(offer=OFFER)))


def test_the_reported_typo_key_is_refused_naming_the_closest_field() -> None:
    assert refusal(reported(offer_typo=1)).reason == "unknown field 'offer_typo' (did you mean 'offer'?)"


def _ticket_upload(**ticket: Any) -> dict[str, Any]:
    upload = copy.deepcopy(sample("ticket_served_counter"))
    upload["events"][0]["ticket"].update(ticket)
    return upload


CASES = {
    "a handoff beside the transaction": (reported(handoff={"kind": "card-dispute"}),
                                         "'handoff' belongs in 'transaction', not at the event's level"),
    "a follow-up beside the transaction": (reported(follow_up={"handoff_id": "SR-2026-000123"}),
                                           "'follow_up' belongs in 'transaction'"),
    "a misspelt transaction field": (reported(transaction={"ammount": {"amount_minor": 1, "currency": "EUR"}}),
                                     "unknown field 'transaction.ammount' (did you mean 'amount'?)"),
    "a field of the amount": (reported(transaction={"amount": {"amount_minor": 1, "currency": "EUR", "vat": 21}}),
                              "unknown field 'transaction.amount.vat': the fields here are amount_minor, currency"),
    "a field of the handoff": (reported(transaction={"handoff": {"kind": "card-dispute", "deadline": "2h"}}),
                               "unknown field 'transaction.handoff.deadline'"),
    "a field of the follow-up": (reported(transaction={"follow_up": {"handoff_id": "SR-1", "case": "SR-2"}}),
                                 "unknown field 'transaction.follow_up.case'"),
    "a field of the offer": (reported(offer={**OFFER, "channel": "sms"}), "unknown field 'offer.channel'"),
    "a field of an identifier": (reported(identifiers=[{"type": "phone", "value": "+34600000000", "verified": True}]),
                                 "unknown field 'identifiers[0].verified': the fields here are type, value"),
    "a field of the ticket": (_ticket_upload(priority="high"), "unknown field 'ticket.priority'"),
    "an identifier among the customer's traits": (
        reported(customer={"given_name": "Ana", "national_id": "48765431A"}),
        "unknown field 'customer.national_id': an identifier belongs in 'identifiers'"),
    "an unknown trait": (reported(customer={"given_name": "Ana", "shoe_size": "38"}),
                         "unknown field 'customer.shoe_size': the customer's traits are given_name"),
}


@pytest.mark.parametrize(("upload", "fragment"), CASES.values(), ids=CASES.keys())
def test_every_closed_section_refuses_a_field_it_does_not_declare(upload: dict[str, Any], fragment: str) -> None:
    assert fragment in refusal(upload).reason


def test_every_unknown_field_of_an_event_is_named_at_once() -> None:
    reason = refusal(reported(offer_typo=1, transaction={"offer": OFFER})).reason
    assert "'transaction.offer'" in reason and "'offer_typo'" in reason


def test_the_traits_usual_spellings_and_a_null_offer_stay_accepted() -> None:
    customer = {"firstName": "Ana", "last_name": "Lima", "address": {"street": "Calle Mayor 1", "city": "Madrid"}}
    assert mapped(reported(customer=customer, offer=None)).events


@pytest.fixture
def publisher() -> StandInPublisher:
    return StandInPublisher()


@pytest.fixture
async def client(publisher: StandInPublisher) -> AsyncIterator[TestClient]:
    settings: BranchSettings = branch_settings()
    ingress = BranchIngress(settings, publisher, CounterMapper(settings, TopicSettings()))  # type: ignore[arg-type]
    async with adapter_client(ingress.app()) as test_client:
        yield test_client


async def _upload(client: TestClient, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {TOKENS['CT-0142-03']}"}
    response = await client.post(UPLOAD_PATH, data=json.dumps(body), headers=headers)
    return response.status, await response.json()


async def test_the_reported_upload_is_answered_400_per_event_and_dead_lettered(
    client: TestClient, publisher: StandInPublisher
) -> None:
    body = reported(transaction={"offer": OFFER})
    good = copy.deepcopy(sample("ticket_called_counter")["events"][0])
    body["events"].append(good)
    status, answer = await _upload(client, body)
    assert status == 400 and answer["accepted"] == [good["event_id"]]
    (rejected,) = answer["rejected"]
    assert rejected["code"] == "unknown_field" and "'transaction.offer'" in rejected["reason"]
    (raw, error), = publisher.rejected
    assert json.loads(raw.value)["transaction"]["offer"] == OFFER and error.code == "unknown_field"


async def test_a_key_beside_the_events_refuses_the_upload_whole(
    client: TestClient, publisher: StandInPublisher
) -> None:
    status, answer = await _upload(client, {**reported(), "branch": "0142"})
    assert status == 400 and "unknown field 'branch' (did you mean 'branch_id'?)" in answer["error"]
    assert len(publisher.rejected) == 1 and publisher.submitted == []


def test_the_openapi_closes_every_object_but_the_customer() -> None:
    upload = OPENAPI["paths"][UPLOAD_PATH]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert not jsonschema.Draft202012Validator(upload).is_valid(reported(transaction={"offer": OFFER}))
    assert not jsonschema.Draft202012Validator(upload).is_valid(reported(offer_typo=1))
    assert jsonschema.Draft202012Validator(upload).is_valid(reported(offer=OFFER))

"""A counter transaction opens a back-office handoff through its ``transaction.handoff`` section."""

from __future__ import annotations

import copy
from io import BytesIO

import fastavro
import pytest

from adapters.branch.openapi import OPENAPI
from schemas.catalog import default_catalog
from tests.adapters.branch.support import sample
from tests.adapters.branch.test_mapper import mapped


def with_handoff(handoff: object, name: str = "transaction_with_identifiers") -> dict:
    upload = copy.deepcopy(sample(name))
    upload["events"][0]["transaction"]["handoff"] = handoff
    return upload


def handoffs(record) -> list:  # type: ignore[no-untyped-def]
    return [o for o in record.events if o.event.schema == "omnibus.handoff.HandoffCreated"]


def test_a_transaction_with_a_handoff_opens_one_per_transaction() -> None:
    upload = with_handoff({"kind": "meter-dispute", "summary": "Reading 4 times too high", "team": "metering"})
    (out,) = handoffs(mapped(upload))
    fastavro.schemaless_writer(BytesIO(), default_catalog().get(out.event.schema).parsed, out.event.value, strict=True)
    value, event = out.event.value, upload["events"][0]
    assert out.topic == "omnibus.handoff.events.v1" and out.key == value["handoff_id"]
    assert value["handoff_id"] == f"counter:{upload['terminal_id']}:{event['transaction']['id']}"
    assert (value["case_type"], value["origin_channel"], value["origin_site"]) == (
        "meter-dispute", "BRANCH", upload["branch_id"])
    assert value["intake_facts"]["requested_team"] == "metering" and value["customer_identifiers"]
    assert value["origin_interaction_id"] == value["handoff_id"]  # the contact, scoped by its terminal
    # re-uploaded: the same case under the same event id
    (again,) = handoffs(mapped(copy.deepcopy(upload)))
    assert again.event.value["envelope"]["event_id"] == value["envelope"]["event_id"]


def test_no_handoff_section_opens_none_and_the_openapi_describes_it() -> None:
    assert not handoffs(mapped("transaction_with_identifiers"))
    transaction = OPENAPI["paths"]["/v1/counter/events"]["post"]["requestBody"]["content"]["application/json"][
        "schema"]["properties"]["events"]["items"]["properties"]["transaction"]
    assert transaction["properties"]["handoff"]["required"] == ["kind"]


@pytest.mark.parametrize(("handoff", "reason"), [
    ({"summary": "no kind given"}, "'transaction.handoff.kind' is required to open a handoff"),  # tester28 F6
    ({"team": "metering"}, "'transaction.handoff.kind' is required to open a handoff"),
    ({"kind": 7}, "'transaction.handoff.kind' must be text, got int"),
    ({"kind": "meter-dispute", "summary": "x" * 1001}, "'transaction.handoff.summary' longer than 1000 characters"),
    ("meter-dispute", "'transaction.handoff' must be {"),
])
def test_a_bad_handoff_section_costs_only_the_handoff(handoff: object, reason: str) -> None:
    """tester28 F6 (a call's summary without the kind lost the call): the transaction is published without the
    handoff, whose refusal the answer lists (``dropped_handoffs``) and the ingest dead-letters."""
    record = mapped(with_handoff(handoff))
    assert not handoffs(record)
    schemas = [o.event.schema for o in record.events]
    assert "omnibus.contact.CounterTransaction" in schemas and "omnibus.contact.InteractionRecorded" in schemas
    ((part, refused),) = [(dropped.part, dropped.refusal) for dropped in record.dropped_parts]
    assert part == "handoff" and refused.code == "bad_field" and refused.reason.startswith(reason), refused
    assert "no kind given" not in refused.reason


def test_a_visit_that_opens_a_handoff_is_handed_off_whatever_its_status() -> None:
    """tester10 #3: a completed transaction with a handoff was RESOLVED, so branch first-contact resolution counted a
    case sent to the back office as solved at the counter."""
    def outcome(upload: dict) -> str:
        (interaction,) = [o for o in mapped(upload).events if o.event.schema == "omnibus.contact.InteractionRecorded"]
        return str(interaction.event.value["outcome"])

    upload = with_handoff({"kind": "meter-dispute"})
    assert upload["events"][0]["transaction"]["status"].upper() == "COMPLETED"
    assert outcome(upload) == "HANDED_OFF"
    assert outcome(copy.deepcopy(sample("transaction_with_identifiers"))) == "RESOLVED"


def test_a_handoff_names_the_customers_traits_as_the_transaction_does() -> None:
    """Tester21 F20: identity places the handoff with the name and birth date given to the clerk, as the visit, so a
    joint account's other holder's case is hers (tests/processors/identity/graph/test_joint_holders_handoff.py)."""
    upload = with_handoff({"kind": "mortgage-question", "summary": "Wants a quote"})
    upload["events"][0]["customer"] = {"given_name": "Emma", "family_name": "Bernard", "birth_date": "1990-01-01"}
    record = mapped(upload)
    (out,) = handoffs(record)
    fastavro.schemaless_writer(BytesIO(), default_catalog().get(out.event.schema).parsed, out.event.value, strict=True)
    (seen,) = [o.event.value for o in record.events if o.event.schema.endswith("IdentifiersObserved")]
    assert out.event.value["traits_event_id"] == seen["envelope"]["event_id"]
    assert "Emma" not in str(out.event.value) and "1990" not in str(out.event.value)
    (plain,) = handoffs(mapped(with_handoff({"kind": "mortgage-question"})))
    assert plain.event.value["traits_event_id"] is None

"""What each legacy event's builder reads (``adapters.legacy.reads``), found by running it."""

from __future__ import annotations

import pytest

from adapters.base.errors import RejectedInput
from adapters.legacy.mapper import BANK_ACCOUNT_FIELDS, BUILDERS
from adapters.legacy.reads import event_fields, event_reads


def test_every_event_reads_its_identifiers_and_its_own_fields() -> None:
    for event in BUILDERS:
        assert {"account_number", "email", *BANK_ACCOUNT_FIELDS} <= event_fields(event), event
    assert {"account_type", "service_tier"} <= event_fields("AccountOpened")
    assert {"amount", "amount_minor", "currency", "due_date", "bill_id"} <= event_fields("BillIssued")
    assert {"case_type", "team", "summary", "handoff_id", "by"} <= event_fields("HandoffCreated")


def test_the_readers_and_the_required_groups_are_the_builders() -> None:
    reads = event_reads("bill.issued")
    assert reads.kinds["amount"] == "money" and reads.kinds["due_date"] == "day"
    assert ("amount", "amount_minor") in reads.required and not reads.references
    assert event_reads("HandoffCreated").references


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(RejectedInput):
        event_reads("NoSuchThing")

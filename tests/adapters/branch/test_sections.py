"""A counter event's ticket and transaction sections read on their own (through the mapper: ``test_mapper``)."""

from __future__ import annotations

import pytest

from adapters.base.errors import RejectedInput
from adapters.branch import sections
from bus.references import References
from tests.bus.identifiers.support import normaliser


def refusal(read, *args) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(RejectedInput) as refused:
        read(*args)
    return refused.value.reason


def test_a_called_ticket_needs_its_counter_an_issued_one_does_not() -> None:
    ticket = {"ticket": {"number": "A042", "issued_at": "2026-11-02T09:00:00+01:00", "service_type": "bills"}}
    assert sections.ticket_fields(ticket, "ticket_issued")["counter_id"] is None
    assert "ticket.counter_id" in refusal(sections.ticket_fields, ticket, "ticket_called")


def test_every_fault_of_an_amount_is_named_at_once() -> None:
    """tester21 F11: the currency was named a round trip after the amount."""
    reason = refusal(sections.transaction_fields, {"transaction": {
        "id": "TX-1", "status": "completed", "type": "payment", "amount": {"amount_minor": 1.5, "currency": "€"}}})
    assert "transaction.amount.amount_minor" in reason and "transaction.amount.currency" in reason


def test_a_transactions_status_is_one_of_its_outcomes() -> None:
    read = sections.transaction_fields({"transaction": {"id": "TX-1", "status": "cancelled", "type": "payment"}})
    assert sections.TRANSACTION_OUTCOME[read["status"]] == "UNRESOLVED"
    assert "must be one of completed, failed, cancelled" in refusal(
        sections.transaction_fields, {"transaction": {"id": "TX-1", "status": "done", "type": "payment"}})


def test_only_declared_references_are_read() -> None:
    references = References.of(["contract_number"], normaliser())
    event = {"transaction": {"references": {"Contract Number": "C-77", "blank": None}}}
    assert "transaction.references.blank" in refusal(sections.transaction_references, event, references)
    assert sections.transaction_references({"transaction": {"references": {"contract_number": "C-77"}}},
                                           references) == {"contract_number": "C-77"}

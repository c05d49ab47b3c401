from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.base.errors import RejectedInput
from adapters.legacy.mapper import BusinessRecord, canonical_event_type, map_business
from tests.adapters.legacy.support import legacy_context, utc


def mapped(event_type: str, **fields: object) -> dict:
    record = BusinessRecord(event_type, fields, "row-1", utc(2024, 4, 27))
    return map_business(record, legacy_context()).events[0].event.value


@pytest.mark.parametrize("raw", ["AccountOpened", "account_opened", "account.opened", "ACCOUNT-OPENED"])
def test_event_types_match_loosely(raw: str) -> None:
    assert canonical_event_type(raw) == "AccountOpened"


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(RejectedInput, match="unknown event type 'invoice.paid'"):
        canonical_event_type("invoice.paid")


def test_identifiers_of_the_holder_are_collected_and_normalised() -> None:
    value = mapped("AccountOpened", account_number="ACC-1", account_type="business", phone="+33 6 12 34 56 78",
                   email="Ann@Example.com", customer_identifiers=[{"type": "card", "value": "tok_4f2a"}])
    assert value["customer_identifiers"] == [
        {"type": "ACCOUNT", "value": "ACC-1"}, {"type": "PHONE", "value": "+33612345678"},
        {"type": "EMAIL", "value": "ann@example.com"}, {"type": "CARD", "value": "tok_4f2a"},
    ]


def test_order_statuses_map_to_the_common_words_and_keep_the_original() -> None:
    value = mapped("OrderStatusChanged", order_id="O-1", status="Dispatched", previous_status="en attente")
    assert (value["status"], value["source_status"], value["previous_status"]) == ("SHIPPED", "Dispatched", "UNKNOWN")


@pytest.mark.parametrize(("word", "status"), [
    ("executada", "COMPLETED"), ("Concluída", "COMPLETED"), ("encerrada", "COMPLETED"), ("ejecutada", "COMPLETED"),
    ("em execução", "IN_PROGRESS"), ("EM ANDAMENTO", "IN_PROGRESS"), ("en curso", "IN_PROGRESS"),
    ("aberta", "CREATED"), ("abierta", "CREATED"), ("nueva", "CREATED"), ("confirmada", "CONFIRMED"),
    ("cancelada", "CANCELLED"), ("anulado", "CANCELLED"), ("rechazada", "FAILED"), ("falhou", "FAILED"),
    ("entregue", "DELIVERED"), ("despachado", "SHIPPED"), ("pendente", "UNKNOWN"), ("suspensa", "UNKNOWN"),
])
def test_tester33_f6_portuguese_and_spanish_order_statuses(word: str, status: str) -> None:
    """tester33 F6: ``executada`` (an executed disconnection) was UNKNOWN and shown as an open order. Words that name
    two statuses (``pendente``: created or confirmed?) stay UNKNOWN: the layout's ``status_words`` says which."""
    value = mapped("OrderStatusChanged", order_id="OS-1", status=word, previous_status=word)
    assert (value["status"], value["previous_status"], value["source_status"]) == (status, status, word)


def test_a_layouts_own_order_words_come_first() -> None:
    record = BusinessRecord("OrderStatusChanged", {"order_id": "OS-2", "status": "Aguardando equipe",
                                                   "previous_status": "executada"}, "row-3", utc(2024, 4, 27))
    ctx = replace(legacy_context(), status_words={"AGUARDANDO_EQUIPE": "CONFIRMED", "EXECUTADA": "FAILED"})
    value = map_business(record, ctx).events[0].event.value
    assert (value["status"], value["previous_status"]) == ("CONFIRMED", "FAILED")


def test_orders_without_an_account_are_keyed_by_order() -> None:
    record = BusinessRecord("OrderStatusChanged", {"order_id": "O-9", "status": "new"}, "row-2", utc(2024, 4, 27))
    assert map_business(record, legacy_context()).events[0].key == "O-9"


def test_days_overdue_default_to_the_days_since_the_due_date() -> None:
    value = mapped("PaymentOverdue", account_number="A", bill_id="B", amount_due="10", due_date="2024-04-15")
    assert value["days_overdue"] == 12


def test_the_event_id_derives_from_the_source_id() -> None:
    first = mapped("AccountClosed", account_number="A")["envelope"]
    assert first["event_id"] == mapped("AccountClosed", account_number="A", reason="x")["envelope"]["event_id"]
    assert (first["source_system"], first["channel"], first["source_event_id"]) == ("billing-db", "BUSINESS_SYSTEM",
                                                                                     "row-1")


@pytest.mark.parametrize(("event_type", "fields", "reason"), [
    ("AccountOpened", {"account_number": "A"}, "account_type is missing"),
    ("BillIssued", {"account_number": "A", "bill_id": "B", "amount": "1", "period_start_date": "2024-03-01",
                    "period_end_date": "2024-03-31", "due_date": "soon"}, "due_date is malformed"),
    ("AccountClosed", {"account_number": {"nested": 1}}, "account_number is malformed"),
    ("AccountClosed", {"account_number": "A", "customer_identifiers": [{"type": "shoe", "value": "42"}]},
     "customer_identifiers"),
])
def test_bad_fields_are_named(event_type: str, fields: dict, reason: str) -> None:
    with pytest.raises(RejectedInput, match=reason):
        mapped(event_type, **fields)


@pytest.mark.parametrize("raw", ["CustomerAddressChanged", "client.phone_updated", "PARTY_EMAIL_CHANGE"])
def test_tester21_f15_a_customer_record_change_is_refused_saying_how_to_send_it(raw: str) -> None:
    """A core-banking CDC row of the customer table was refused naming only the account and billing types."""
    with pytest.raises(RejectedInput, match=f"unknown event type '{raw}'") as raised:
        canonical_event_type(raw)
    assert "send it as an AccountOpened row per open account of the customer" in raised.value.reason
    assert "A customer's own record" in raised.value.reason


def test_a_misspelt_account_type_gets_no_customer_record_hint() -> None:
    with pytest.raises(RejectedInput) as raised:
        canonical_event_type("AccountOpend")
    assert "customer's own record" not in raised.value.reason

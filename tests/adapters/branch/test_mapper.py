"""Counter-terminal events -> canonical events: the pure mapping rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from adapters.base.errors import RejectedInput
from adapters.base.mapper import MappedRecord
from adapters.branch.mapper import CounterMapper
from bus.config import TopicSettings
from tests.adapters.branch.support import branch_settings, sample

PARIS_SUMMER = timezone(timedelta(hours=2))


def mapped(name_or_upload: str | dict[str, Any], **overrides: Any) -> MappedRecord:
    upload = sample(name_or_upload) if isinstance(name_or_upload, str) else name_or_upload
    (event,) = upload["events"]
    mapper = CounterMapper(branch_settings(**overrides), TopicSettings())
    return mapper(event, terminal_id=upload["terminal_id"], branch_id=upload["branch_id"])


def by_schema(record: MappedRecord) -> dict[str, dict[str, Any]]:
    return {o.event.schema.rsplit(".", 1)[1]: o.event.value for o in record.events}


def test_an_issued_ticket_without_machine_id_gets_branch_day_number() -> None:
    ticket = by_schema(mapped("ticket_issued_machine"))["QueueTicketChanged"]
    assert ticket["ticket_id"] == "0142:2024-05-02:A042"
    assert (ticket["status"], ticket["counter_id"], ticket["wait_ms"]) == ("ISSUED", None, None)
    assert ticket["issued_at"] == datetime(2024, 5, 2, 9, 14, 3, 120000, tzinfo=PARIS_SUMMER)
    assert ticket["envelope"]["site"] == "0142" and ticket["envelope"]["channel"] == "BRANCH"


def test_the_customers_phone_at_the_machine_is_normalised_with_the_branch_region() -> None:
    record = mapped("ticket_issued_machine")
    assert by_schema(record)["IdentifiersObserved"]["identifiers"] == [{"type": "PHONE", "value": "+33612345678"}]
    # Without a region the national number is not guessed, nor dropped: it is a rejection with its reason.
    observed = by_schema(mapped("ticket_issued_machine", phone_region=None))["IdentifiersObserved"]
    assert observed["identifiers"] == []
    assert [(r["type"], r["code"]) for r in observed["rejected_identifiers"]] == [("PHONE", "phone-invalid")]


def test_called_and_served_tickets_carry_the_wait() -> None:
    called = by_schema(mapped("ticket_called_counter"))["QueueTicketChanged"]
    assert (called["status"], called["counter_id"]) == ("CALLED", "C3")
    assert called["wait_ms"] == (12 * 60 + 44) * 1000 + 780
    served = by_schema(mapped("ticket_served_counter"))["QueueTicketChanged"]
    assert (served["status"], served["wait_ms"]) == ("SERVED", called["wait_ms"])
    assert by_schema(mapped("no_show_counter"))["QueueTicketChanged"]["status"] == "NO_SHOW"


def test_a_transaction_is_also_a_contact_and_links_its_identifiers() -> None:
    record = mapped("transaction_with_identifiers")
    events = by_schema(record)
    transaction, contact = events["CounterTransaction"], events["InteractionRecorded"]
    assert transaction["amount"] == {"amount_minor": 4990, "currency": "EUR"}
    assert (transaction["terminal_id"], transaction["ticket_id"]) == ("CT-0142-03", "0142:2024-05-02:A042")
    assert (contact["kind"], contact["name"], contact["outcome"]) == ("COUNTER_TRANSACTION", "bill-payment", "RESOLVED")
    # one id for the visit, scoped by its terminal (adapters.base.issuers)
    assert contact["interaction_id"] == transaction["transaction_id"] == "counter:CT-0142-03:TX-CT-0142-03-000981"
    assert events["IdentifiersObserved"]["identifiers"] == [
        {"type": "ACCOUNT", "value": "ACC-0042-7781"}, {"type": "PHONE", "value": "+33612345678"},
    ]
    # Not a valid resident ID (the deployment's scheme): a masked rejection, never the raw number.
    assert [(r["type"], r["masked"]) for r in events["IdentifiersObserved"]["rejected_identifiers"]] == [
        ("NATIONAL_ID", "[national id]")]
    assert by_schema(mapped("transaction_failed_anonymous"))["InteractionRecorded"]["outcome"] == "UNRESOLVED"


def test_a_transaction_names_the_record_with_the_customers_traits_and_never_carries_them() -> None:
    """A new user's housemates Paul and Marie, served with the family phone, both landed on one customer: the
    transaction now names its sibling IdentifiersObserved (``traits_event_id``), which identity joins it with, as a
    call names its IVR record. Without traits there is nothing to name."""
    upload = sample("transaction_with_identifiers")
    upload["events"][0]["customer"] = {"given_name": "Marie", "family_name": "Moreau", "birth_date": "1984-03-02"}
    events = by_schema(mapped(upload))
    observed_id = events["IdentifiersObserved"]["envelope"]["event_id"]
    assert events["IdentifiersObserved"]["traits"]["given_name"] == "Marie"
    for contact in (events["CounterTransaction"], events["InteractionRecorded"]):
        assert contact["traits_event_id"] == observed_id
        assert "marie" not in str(contact).lower() and "1984" not in str(contact)
    plain = by_schema(mapped("transaction_with_identifiers"))
    assert plain["CounterTransaction"]["traits_event_id"] is None is plain["InteractionRecorded"]["traits_event_id"]


def test_every_contact_event_of_a_branch_shares_its_key() -> None:
    for name in ("ticket_issued_machine", "ticket_called_counter", "transaction_with_identifiers"):
        record = mapped(name)
        assert {o.key for o in record.events if "contact.events" in o.topic} == {"0142"}


def test_ids_derive_from_terminal_and_client_event_id() -> None:
    record = mapped("ticket_called_counter")
    assert record.dedupe_id == "CT-0142-03:a1c7e9d2-5b3f-4e8a-9c0d-2e4f6a8b0c11"
    other_terminal = sample("ticket_called_counter") | {"terminal_id": "CT-0142-01"}
    assert mapped(other_terminal).events[0].event.value["envelope"]["event_id"] != record.events[0].event.value["envelope"]["event_id"]


def test_a_mistyped_phone_is_dropped_but_the_event_is_kept() -> None:
    upload = sample("transaction_failed_anonymous")
    upload["events"][0]["identifiers"] = [{"type": "phone", "value": "12"}, {"type": "email", "value": "A@B.fr"}]
    assert by_schema(mapped(upload))["IdentifiersObserved"]["identifiers"] == [{"type": "EMAIL", "value": "a@b.fr"}]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"kind": "ticket_printed"}, "unknown event kind"),
        ({"occurred_at": "02/05/2024 10:00"}, "ISO-8601"),
        ({"transaction": None}, "missing 'transaction'"),
        ({"transaction": {"id": "T", "type": "x", "status": "completed", "amount": {"amount_minor": 1.5, "currency": "EUR"}}},
         "amount_minor"),
        ({"transaction": {"id": "T", "type": "x", "status": "completed", "amount": {"amount_minor": 1, "currency": "euro"}}},
         "ISO 4217"),
        ({"identifiers": [{"type": "shoe_size", "value": "42"}]}, "unknown type"),
        ({"identifiers": "+33612345678"}, "list of {type, value}"),
        ({"event_id": {"id": 1}}, "'event_id' must be a string or a whole number"),
        ({"event_id": 5550001.5}, "'event_id' must be a string or a whole number"),
        ({"event_id": True}, "'event_id' must be a string or a whole number"),
    ],
)
def test_malformed_events_are_refused_with_a_reason(change: dict[str, Any], fragment: str) -> None:
    upload = sample("transaction_failed_anonymous")
    upload["events"][0] |= change
    with pytest.raises(RejectedInput) as caught:
        mapped(upload)
    assert fragment in caught.value.reason


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"occurred_at": "2024-05-02T10:00:00", "transaction": None},
         "'occurred_at' must carry a UTC offset (terminals may be offline across time zones); missing 'transaction'"),
        ({"event_id": None, "transaction": {"type": "x", "status": "maybe",
                                            "amount": {"amount_minor": 1, "currency": "euro"}}},
         "missing 'event_id'; missing 'transaction.id'; 'transaction.status' must be one of completed, failed, "
         "cancelled; 'transaction.amount.currency' must be an ISO 4217 code such as EUR"),
        # tester21 F11: a bad amount and a bad currency of one amount, both named
        ({"transaction": {"id": "T", "type": "x", "status": "completed",
                          "amount": {"amount_minor": "12.5", "currency": "EURO"}}},
         "'transaction.amount.amount_minor' must be a whole number of minor units; "
         "'transaction.amount.currency' must be an ISO 4217 code such as EUR"),
    ],
)
def test_tester19_f20_every_fault_of_an_event_and_its_section_is_named_at_once(
    change: dict[str, Any], reason: str
) -> None:
    upload = sample("transaction_failed_anonymous")
    upload["events"][0] |= change
    with pytest.raises(RejectedInput) as caught:
        mapped(upload)
    assert caught.value.reason == reason


def test_received_at_is_when_the_adapter_got_it_not_when_it_happened() -> None:
    upload = sample("transaction_failed_anonymous")
    (event,) = upload["events"]
    received = datetime(2024, 5, 4, 8, 0, tzinfo=UTC)  # uploaded two days later
    record = CounterMapper(branch_settings(), TopicSettings())(event, terminal_id="CT-0142-01", branch_id="0142", received_at=received)
    envelope = record.events[0].event.value["envelope"]
    assert envelope["received_at"] == received and envelope["occurred_at"] < received

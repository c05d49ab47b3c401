"""A legacy back-office system's outbox rows of the handoff types become the tracker's lifecycle events."""

from __future__ import annotations

from dataclasses import replace
from io import BytesIO

import fastavro
import pytest

from adapters.base.errors import RejectedInput
from adapters.legacy.config import PollerSettings
from adapters.legacy.ingress_outbox import outbox_record
from adapters.legacy.ingress_poller import polled_record
from adapters.legacy.mapper import BusinessRecord, map_business
from bus.config import TopicSettings
from bus.topics import HANDOFF_EVENTS
from schemas.catalog import default_catalog
from tests.adapters.legacy.support import legacy_context, utc

TOPIC = HANDOFF_EVENTS.name(TopicSettings())


def mapped(event_type: str, row: str = "row-1", **fields: object):  # type: ignore[no-untyped-def]
    ctx = replace(legacy_context(), handoff_topic=TOPIC)
    (out,) = map_business(BusinessRecord(event_type, fields, row, utc(2024, 4, 27)), ctx).events
    fastavro.schemaless_writer(BytesIO(), default_catalog().get(out.event.schema).parsed, out.event.value, strict=True)
    assert out.topic == TOPIC and out.key == out.event.value["handoff_id"]
    return out.event


def test_the_lifecycle_rows_a_ticketing_system_writes() -> None:
    created = mapped("handoff.created", case_type="Meter-Dispute", summary="Estimated reading", team="metering",
                     account_number="ACC-1", phone="+33612345678")
    value = created.value
    assert created.schema == "omnibus.handoff.HandoffCreated" and value["handoff_id"].startswith("legacy:")
    assert (value["case_type"], value["origin_channel"], value["intake_facts"]["requested_team"]) == (
        "meter-dispute", "BUSINESS_SYSTEM", "metering")
    assert {i["type"] for i in value["customer_identifiers"]} == {"ACCOUNT", "PHONE"}
    ack = mapped("HandoffAcknowledged", handoff_id="call:amazon-connect:c1", external_reference="TK-9", by="desk-1")
    assert (ack.value["receiving_system"], ack.value["actor"]) == (legacy_context().source_system,
                                                                  {"kind": "EMPLOYEE", "id": "desk-1"})
    assert ack.value["envelope"]["channel"] == "BACK_OFFICE"
    accepted = mapped("handoff_accepted", handoff_id="h1", by="agent-3")
    assert accepted.value["owner"] == {"kind": "EMPLOYEE", "id": "agent-3"}
    resolved = mapped("HandoffResolved", handoff_id="h1", resolution="Meter replaced", by="agent-3")
    assert resolved.value["resolution"] == "Meter replaced"
    assert mapped("HandoffClosed", handoff_id="h1", close_reason="withdrawn").value["close_reason"] == "WITHDRAWN"
    # the same row read again: the same event id
    again = mapped("HandoffResolved", handoff_id="h1", resolution="Meter replaced", by="agent-3")
    assert again.value["envelope"]["event_id"] == resolved.value["envelope"]["event_id"]


@pytest.mark.parametrize(("event_type", "fields", "reason"), [
    ("HandoffCreated", {"summary": "x"}, "case_type"),
    ("HandoffResolved", {"handoff_id": "h1", "by": "a"}, "resolution"),
    ("HandoffAccepted", {"handoff_id": "h1"}, "by"),
    ("HandoffClosed", {"handoff_id": "h1", "close_reason": "forgotten"}, "close_reason"),
])
def test_bad_rows_are_refused_with_the_field(event_type: str, fields: dict, reason: str) -> None:
    with pytest.raises(RejectedInput, match=reason):
        mapped(event_type, **fields)


def test_a_source_without_the_handoff_topic_refuses_them() -> None:
    record = BusinessRecord("HandoffAccepted", {"handoff_id": "h1", "by": "a"}, "row-1", utc(2024, 4, 27))
    with pytest.raises(RejectedInput, match="not taken"):
        map_business(record, legacy_context())


def test_a_resolution_a_back_office_system_writes_is_scrubbed_as_a_summary_is() -> None:
    """tester24 F5, the kind: back-office free text travels scrubbed whichever way it comes (here a ticketing
    system's outbox row); the resolution is quoted in the customer's notification."""
    resolved = mapped("HandoffResolved", handoff_id="h1", by="agent-3",
                      resolution="Refund to card 4111 1111 1111 1111, IBAN FR7630006000011234567890189 noted")
    assert resolved.value["resolution"] == "Refund to card [digits], IBAN [digits] noted"


def test_a_created_row_without_handoff_id_opens_the_case_under_its_source_records_id() -> None:
    """An outbox row's case is ``legacy:<source>:outbox:<row id>`` (docs/handoffs.md said ``legacy:<source>:<row
    id>``, which ``handoffs show`` does not find), a polled row's ``legacy:<source>:poll:<poller>:<key>`` (every
    version of the row: test_handoff_versions)."""
    ctx = replace(legacy_context(), handoff_topic=TOPIC)
    fields = {"case_type": "number-porting", "summary": "Portabilidad bloqueada", "phone": "+34612000025"}
    row = outbox_record(1, "ticket", "T-77", "HandoffCreated", fields, utc(2024, 4, 27))
    (out,) = map_business(row, ctx).events
    assert out.event.value["handoff_id"] == f"legacy:{ctx.source_system}:outbox:1"
    spec = PollerSettings(name="tickets", table="tickets", primary_key="id", event_type="HandoffCreated")
    polled = polled_record(spec, ctx, {"id": 5, **fields, "updated_at": utc(2024, 4, 27, 9)})
    (out,) = map_business(polled, ctx).events
    assert out.event.value["handoff_id"] == f"legacy:{ctx.source_system}:poll:tickets:5"
    named = outbox_record(2, "ticket", "T-78", "HandoffCreated", {**fields, "handoff_id": "TK-78"}, utc(2024, 4, 27))
    assert map_business(named, ctx).events[0].event.value["handoff_id"] == "TK-78"


def test_an_import_summary_says_which_lines_opened_a_case_that_names_nobody() -> None:
    """A case row without a phone, e-mail or account is needs_contact from its first status; the import's summary
    line says so with its line, never its content (the counter's and call center's answers list it:
    ``handoffs_naming_nobody``)."""
    from adapters.base.mapper import MappedRecord
    from adapters.legacy.batch_report import BatchReport

    ctx = replace(legacy_context(), handoff_topic=TOPIC)
    named = map_business(BusinessRecord("handoff.created", {"case_type": "x", "phone": "+33612345678"}, "r-1",
                                        utc(2024, 4, 27)), ctx)
    nobody = map_business(BusinessRecord("handoff.created", {"case_type": "x", "summary": "Marta, no number"},
                                         "r-2", utc(2024, 4, 27)), ctx)
    report = BatchReport("c" * 64, lines=2, published_events=2)
    lines = {0: 2, 1: 3}
    report.nobody.add([(0, MappedRecord("r-1", named.events)), (1, MappedRecord("r-2", nobody.events))],
                      lines.__getitem__)
    assert report.summary("cases.csv") == (
        "cases.csv: 2 lines, 2 events published, 0 duplicates, 0 rejected, 1 case names nobody on line 3: nobody "
        "will be notified of it, nor see it on a screen pop; add a phone or e-mail")

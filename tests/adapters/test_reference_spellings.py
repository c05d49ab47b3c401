"""tester26 F11: a utility's meter point (PRM/PCE) carried on every channel under the name it is declared by, in any
spelling: ``OMNIBUS_IDENTIFIERS__REFERENCE_FIELDS='["meter_point"]'`` is a contact flow's ``meterPoint``, a billing
export's ``METER_POINT``, an agent's ``Meter-Point``. Its value is kept whole where the README says references go (web
properties, handoff intake facts, every channel's summary after the declared name), and now also in a call's
disposition and TaskRouter reason (an agent's notes), a call's properties (its contact attributes) and a legacy
``HandoffCreated``'s intake facts (a batch line's column or an outbox row's field)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.branch.mapper import CounterMapper
from adapters.call_center.mapper import MapContext, Topics
from adapters.call_center.mapper_ctr import map_ctr
from adapters.call_center.mapper_taskrouter import Timeline, map_task
from adapters.legacy.errors import LayoutError
from adapters.legacy.layout import load_layout
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from tests.adapters.branch.support import branch_settings, sample
from tests.adapters.call_center.support import call_center_settings
from tests.adapters.call_center.test_mapper_identifiers import ctr, task
from tests.adapters.web.support import web_settings
from tests.bus.identifiers.support import identifier_settings

DECLARED = identifier_settings(default_region="FR", reference_fields=("meter_point",))
PRM = "14500000000001"  # a France PRM: 14 digits, scrubbed as [digits] when undeclared
SPELLINGS = ["meter_point", "meterPoint", "METER_POINT", "Meter-Point", "METER-POINT"]
AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def by_schema(events: list[Event]) -> dict[str, dict[str, Any]]:
    return {event.schema.rsplit(".", 1)[1]: event.value for event in events}


@pytest.mark.parametrize("name", SPELLINGS)
def test_a_web_property_under_any_spelling_of_the_declared_name_is_kept(name: str) -> None:
    mapper = SegmentMapper(web_settings(phone_region="FR"), TopicSettings(), DECLARED)
    message = {"type": "track", "userId": "u-t26", "messageId": f"m-{name}", "event": "Service Request Submitted",
               "properties": {name: PRM, "case_type": "meter-dispute", "summary": f"{name}: {PRM} reads 48211 kWh"}}
    values = by_schema([out.event for out in mapper(message, source="portal-web", received_at=AT).events])
    assert values["InteractionRecorded"]["properties"][name] == PRM
    assert values["HandoffCreated"]["intake_facts"][name] == PRM
    assert values["HandoffCreated"]["summary"] == f"{name}: {PRM} reads 48211 kWh"


@pytest.mark.parametrize("name", [*SPELLINGS, "meter point"])
def test_a_counter_summary_keeps_the_meter_point_after_any_spelling_of_its_name(name: str) -> None:
    upload = copy.deepcopy(sample("transaction_with_identifiers"))
    upload["events"][0]["transaction"]["handoff"] = {"kind": "meter-dispute",
                                                     "summary": f"{name} {PRM}, call 06 12 34 56 78"}
    mapper = CounterMapper(branch_settings(), TopicSettings(), DECLARED)
    record = mapper(upload["events"][0], terminal_id=upload["terminal_id"], branch_id=upload["branch_id"])
    assert by_schema([out.event for out in record.events])["HandoffCreated"]["summary"] == f"{name} {PRM}, call [digits]"


def _call(source: str, attributes: dict[str, Any], reason: str | None = None) -> dict[str, dict[str, Any]]:
    settings_ = call_center_settings()
    site = "paris" if source == "connect" else "lyon"
    context = MapContext(site, settings_.sites[site], Topics.of(TopicSettings()), settings_, DECLARED)
    if source == "connect":
        events = map_ctr(ctr(Attributes=attributes), context).events
    else:
        form = task(**attributes)
        if reason is not None:
            form["TaskCompletedReason"] = reason
        events = map_task(form, Timeline(), context).events
    return by_schema([out.event for out in events])


@pytest.mark.parametrize("source", ["connect", "taskrouter"])
@pytest.mark.parametrize("name", SPELLINGS)
def test_a_contact_attribute_carries_the_meter_point_into_the_calls_properties_and_its_handoff(
        source: str, name: str) -> None:
    values = _call(source, {name: PRM, "omnibus_handoff_kind": "meter-dispute", "phone_number": "0612345678"})
    assert values["InteractionRecorded"]["properties"][name] == PRM
    assert values["HandoffCreated"]["intake_facts"][name] == PRM
    assert "phone_number" not in values["InteractionRecorded"]["properties"]  # only declared references are carried


@pytest.mark.parametrize("source", ["connect", "taskrouter"])
def test_an_identifier_under_the_declared_name_is_scrubbed_in_a_calls_properties(source: str) -> None:
    values = _call(source, {"meterPoint": "06 12 34 56 78", "omnibus_handoff_kind": "meter-dispute"})
    assert values["InteractionRecorded"]["properties"]["meterPoint"] == "[digits]"
    assert values["HandoffCreated"]["intake_facts"]["meterPoint"] == "[digits]"


@pytest.mark.parametrize("source", ["connect", "taskrouter"])
@pytest.mark.parametrize("name", SPELLINGS)
def test_an_agents_notes_keep_the_meter_point_and_lose_the_phone(source: str, name: str) -> None:
    note = f"{name}: {PRM} disputed, call back 06 12 34 56 78"
    values = _call(source, {"disposition": note})
    assert values["InteractionRecorded"]["properties"]["disposition"] == f"{name}: {PRM} disputed, call back [digits]"
    if source == "taskrouter":
        reason = _call(source, {}, reason=note)["InteractionRecorded"]["properties"]["reason"]
        assert reason == f"{name}: {PRM} disputed, call back [digits]"


def _legacy_created(fields: dict[str, Any], reference_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    context = LegacyContext("ticketing", "omnibus.business.v1", handoff_topic="omnibus.handoff.events.v1",
                            phone_region="FR", identifiers=DECLARED, reference_fields=reference_fields)
    line = {"case_type": "meter-dispute", "summary": "reading disputed", "phone": "+33612349001", **fields}
    (out,) = map_business(BusinessRecord("HandoffCreated", line, "cases.csv:2", AT), context).events
    return out.event.value


@pytest.mark.parametrize("name", SPELLINGS)
def test_a_billing_lines_meter_point_column_reaches_the_handoffs_intake_facts(name: str) -> None:
    assert _legacy_created({name: PRM})["intake_facts"][name] == PRM
    assert _legacy_created({"pce": "GI123456"}, ("PCE",))["intake_facts"]["pce"] == "GI123456"  # the adapter's own
    assert "serial" not in _legacy_created({"serial": "0234567890123"})["intake_facts"]  # undeclared: not carried


def test_a_layout_may_map_a_column_to_a_declared_reference_of_an_event_that_carries_it(tmp_path: Path) -> None:
    layout = tmp_path / "cases.yaml"
    layout.write_text("name: cases\nformat: csv\nevent: HandoffCreated\nfields:\n  case_type: {column: TYPE}\n"
                      "  summary: {column: TEXT}\n  METER_POINT: {column: PRM}\n")
    assert "METER_POINT" in load_layout(layout, ("meter_point",)).fields
    with pytest.raises(LayoutError, match="unknown field 'METER_POINT'"):
        load_layout(layout)
    bills = tmp_path / "bills.yaml"  # a business event has no properties: its column would be lost
    bills.write_text("name: bills\nformat: csv\nevent: AccountOpened\nfields:\n  account_number: {column: A}\n"
                     "  account_type: {column: T}\n  meter_point: {column: PRM}\n")
    with pytest.raises(LayoutError, match="unknown field 'meter_point'"):
        load_layout(bills, ("meter_point",))

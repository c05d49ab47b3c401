"""A call opens a back-office handoff through contact / task attributes (``omnibus_handoff_*``)."""

from __future__ import annotations

import copy
import json
from io import BytesIO

import fastavro
import pytest

from adapters.call_center import mapper_ctr, mapper_taskrouter
from adapters.call_center.errors import RejectedInput
from adapters.call_center.state import Timeline
from schemas.catalog import default_catalog
from tests.adapters.call_center.support import context, sample

REPAIR = {"omnibus_handoff_kind": "Line-Repair", "omnibus_handoff_team": "repair",
          "omnibus_handoff_summary": "No power since the storm"}


def handoffs(record) -> list:  # type: ignore[no-untyped-def]
    return [o for o in record.events if o.event.schema == "omnibus.handoff.HandoffCreated"]


def _strict(event) -> None:  # type: ignore[no-untyped-def]
    fastavro.schemaless_writer(BytesIO(), default_catalog().get(event.schema).parsed, event.value, strict=True)


def test_connect_contact_attributes_open_a_handoff_once_per_contact() -> None:
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), **REPAIR}
    (out,) = handoffs(mapper_ctr.map_ctr(ctr, context()))
    _strict(out.event)
    value = out.event.value
    assert out.topic == "omnibus.handoff.events.v1" and out.key == value["handoff_id"]
    assert value["handoff_id"] == f"call:amazon-connect:{ctr['ContactId']}"
    assert (value["case_type"], value["summary"], value["origin_channel"], value["origin_interaction_id"]) == (
        "line-repair", "No power since the storm", "CALL_CENTER", ctr["ContactId"])
    assert value["intake_facts"]["requested_team"] == "repair" and value["origin_site"]
    assert value["customer_identifiers"] and value["customer_identifiers"][0]["type"] == "PHONE"
    assert value["actor"]["kind"] == "EMPLOYEE" and value["envelope"]["channel"] == "CALL_CENTER"
    # a later version of the same CTR names the same case under the same event id: no second handoff
    again = copy.deepcopy(ctr)
    again["LastUpdateTimestamp"] = "2030-01-01T00:00:00Z"
    (second,) = handoffs(mapper_ctr.map_ctr(again, context()))
    assert (second.key, second.event.value["envelope"]["event_id"]) == (out.key, value["envelope"]["event_id"])


def test_without_handoff_attributes_no_handoff_and_a_kind_alone_is_enough() -> None:
    assert not handoffs(mapper_ctr.map_ctr(sample("ctr_inbound_answered.json"), context()))
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), "omnibus_handoff_kind": "meter-dispute"}
    (out,) = handoffs(mapper_ctr.map_ctr(ctr, context()))
    _strict(out.event)
    assert out.event.value["summary"] == "meter-dispute handed off from call center"
    assert "requested_team" not in out.event.value["intake_facts"]


def test_a_team_without_a_kind_is_refused_with_the_field() -> None:
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), "omnibus_handoff_team": "repair"}
    with pytest.raises(RejectedInput, match="omnibus_handoff_kind") as refused:
        mapper_ctr.map_ctr(ctr, context())
    # named as missing, not "malformed (is required ...)" (tester19 F17)
    assert refused.value.reason == ("CTR: field Attributes.omnibus_handoff_kind is required to open a handoff"
                                    " (the kind of case, e.g. line-repair)")
    assert refused.value.code == "missing_field"


def test_taskrouter_task_attributes_open_a_handoff() -> None:
    terminal = copy.deepcopy(sample("taskrouter_answered.json")[-1])
    terminal["TaskAttributes"] = json.dumps(json.loads(terminal["TaskAttributes"]) | REPAIR)
    (out,) = handoffs(mapper_taskrouter.map_task(terminal, Timeline(), context("lyon")))
    _strict(out.event)
    assert out.event.value["handoff_id"].startswith("call:twilio-taskrouter:")
    assert out.event.value["origin_channel"] == "CALL_CENTER" and out.event.value["customer_identifiers"]


def test_a_call_that_opens_a_handoff_is_handed_off_whatever_the_wrap_up_code() -> None:
    """handoff9's note: the call that opened a handoff was ``UNKNOWN`` (or the agent's ``resolved``), so first-contact
    resolution counted it resolved or unknown while the web hall's service requests are ``HANDED_OFF``."""
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), **REPAIR, "disposition": "resolved"}
    (interaction,) = [o for o in mapper_ctr.map_ctr(ctr, context()).events
                      if o.event.schema == "omnibus.contact.InteractionRecorded"]
    assert interaction.event.value["outcome"] == "HANDED_OFF"
    plain = copy.deepcopy(sample("ctr_inbound_answered.json"))
    plain["Attributes"] = {**(plain.get("Attributes") or {}), "disposition": "resolved"}
    (kept,) = [o for o in mapper_ctr.map_ctr(plain, context()).events
               if o.event.schema == "omnibus.contact.InteractionRecorded"]
    assert kept.event.value["outcome"] == "RESOLVED"


def test_a_handoff_names_the_callers_traits_as_the_contact_does() -> None:
    """Tester21 F20: identity places the handoff with the IVR name and birth date, as the call, so a joint account's
    other holder's case is hers (tests/processors/identity/graph/test_joint_holders_handoff.py)."""
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), **REPAIR, "firstName": "Emma", "dateOfBirth": "01/01/1990"}
    record = mapper_ctr.map_ctr(ctr, context())
    (out,) = handoffs(record)
    _strict(out.event)
    named = {o.event.value["traits_event_id"] for o in record.events if o.topic == context().topics.contact_events}
    assert len(named) == 1 and None not in named and out.event.value["traits_event_id"] in named
    assert "Emma" not in json.dumps(out.event.value, default=str)
    ctr["Attributes"] = {**REPAIR}
    (plain,) = handoffs(mapper_ctr.map_ctr(ctr, context()))
    assert plain.event.value["traits_event_id"] is None

"""tester32 F8, the rest of the kind: the platforms' own formats stay open (adapters/call_center/README.md).

An Amazon Connect CTR and a TaskRouter callback gain fields over time; a field the adapter does not know is not
refused, and the call maps as it does without it. (The counter upload, Omnibus's own contract, refuses one:
``tests/adapters/branch/test_unknown_fields.py``.)
"""

from __future__ import annotations

from typing import Any

from adapters.base.mapper import MappedRecord
from adapters.call_center import mapper_ctr, mapper_taskrouter
from adapters.call_center.mapper_taskrouter import Timeline
from tests.adapters.call_center.support import context, sample


def published(record: MappedRecord) -> list[tuple[str, str, dict[str, Any]]]:
    """Each event's topic, schema and value, the receive time left out (it is the mapping's clock)."""
    return [(o.topic, o.event.schema, {**o.event.value, "envelope": {**o.event.value["envelope"], "received_at": None}})
            for o in record.events]


def test_a_ctr_field_amazon_adds_later_is_not_refused() -> None:
    ctr = sample("ctr_inbound_answered.json")
    grown = {**ctr, "ContactDetails": {"Name": "x"}, "SegmentAttributes": {"connect:Subtype": {"ValueString": "x"}}}
    assert published(mapper_ctr.map_ctr(grown, context())) == published(mapper_ctr.map_ctr(ctr, context()))


def test_a_taskrouter_callback_field_twilio_adds_later_is_not_refused() -> None:
    *_, terminal = sample("taskrouter_answered.json")
    grown = {**terminal, "TaskVersion": "4", "EventDescription": "Task completed"}
    ours = published(mapper_taskrouter.map_task(terminal, Timeline(), context("lyon")))
    assert published(mapper_taskrouter.map_task(grown, Timeline(), context("lyon"))) == ours

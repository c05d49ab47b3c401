from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from adapters.call_center import mapper_taskrouter
from adapters.call_center.errors import RejectedInput
from adapters.call_center.mapper_taskrouter import Timeline, record
from tests.adapters.call_center.support import context, sample

ANSWERED = sample("taskrouter_answered.json")


def test_times_come_as_epoch_seconds_milliseconds_or_iso() -> None:
    moment = datetime(2024, 3, 5, 10, 5, 5, tzinfo=UTC)
    for raw in ("1709633105", "1709633105000", "2024-03-05T10:05:05Z"):
        assert mapper_taskrouter.twilio_time(raw, "t") == moment


def test_the_first_report_of_a_fact_wins() -> None:
    timeline = record(Timeline(), ANSWERED[1])
    again = record(timeline, {**ANSWERED[1], "Timestamp": "1709639999", "TimestampMs": ""})
    assert again == timeline and timeline.agent_id == "lbernard"


def test_without_the_timeline_the_terminal_callback_and_flex_attributes_fill_in() -> None:
    attributes = json.loads(ANSWERED[-1]["TaskAttributes"]) | {"conversations": {"queue_time": 12}}
    terminal = {**ANSWERED[-1], "TaskAttributes": json.dumps(attributes)}
    value = mapper_taskrouter.map_task(terminal, Timeline(), context("lyon")).events[0].event.value
    assert value["queue_wait_ms"] == 12_000 and value["answered_within_sla"] is True
    assert value["abandoned"] is False and value["disposition"] == "refund-issued"


def test_an_intermediate_callback_does_not_end_a_task() -> None:
    with pytest.raises(RejectedInput, match="does not end a task"):
        mapper_taskrouter.map_task(ANSWERED[0], Timeline(), context("lyon"))


def test_a_transfer_reason_marks_the_call_transferred() -> None:
    terminal = {**ANSWERED[-1], "TaskCompletedReason": "Task transferred to repairs"}
    value = mapper_taskrouter.map_task(terminal, Timeline(), context("lyon")).events[0].event.value
    assert value["transferred"] is True


def test_a_reason_the_agent_typed_reaches_no_event_with_an_identifier_in_it() -> None:
    """tester21 F6: every free text on a contact event is scrubbed, on every channel."""
    attributes = json.loads(ANSWERED[-1]["TaskAttributes"]) | {"disposition": "refund 89.90 EUR to 4970100000000014"}
    terminal = {**ANSWERED[-1], "TaskAttributes": json.dumps(attributes),
                "TaskCompletedReason": "card 4970 1000 0000 0014 blocked, mail a.person@example.org"}
    events = mapper_taskrouter.map_task(terminal, Timeline(), context("lyon")).events
    published = json.dumps([outgoing.event.value for outgoing in events], default=str)
    assert "4970" not in published and "a.person" not in published
    assert "refund 89.90 EUR to [digits]" in published and "card [digits] blocked, mail [email]" in published

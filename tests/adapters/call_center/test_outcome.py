"""A call's outcome from what its source reports (tester7 #14: a CTR with ``disposition: "resolved"`` was counted
``UNKNOWN``, and every call without a wrap-up mapping too)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.call_center import mapper_asterisk, mapper_ctr, mapper_taskrouter, outcome
from adapters.call_center.mapper_taskrouter import Timeline
from schemas.enums import INTERACTION_OUTCOMES
from tests.adapters.call_center.support import call_center_settings, context, master_lines, sample

ANSWERED_CTR, ABANDONED_CTR = sample("ctr_inbound_answered.json"), sample("ctr_abandoned.json")
INBOUND_CDR, QUEUED_NO_ANSWER_CDR, OUTBOUND_CDR = master_lines()[:3]


def outcome_of(mapped: Any) -> str:
    (interaction,) = [o.event.value for o in mapped.events if o.event.schema == "omnibus.contact.InteractionRecorded"]
    return str(interaction["outcome"])


def ctr(**changes: Any) -> str:
    attributes = changes.pop("Attributes", {})
    record = {**ANSWERED_CTR, **changes, "Attributes": {**ANSWERED_CTR["Attributes"], **attributes}}
    return outcome_of(mapper_ctr.map_ctr(record, context(**changes.pop("settings", {}))))


@pytest.mark.parametrize(("disposition", "expected"), [
    ("resolved", "RESOLVED"), ("Unresolved", "UNRESOLVED"), ("handed-off", "HANDED_OFF"), ("Handed off", "HANDED_OFF"),
    ("bill-explained", "UNKNOWN"),
])
def test_a_wrap_up_code_that_names_an_outcome_is_that_outcome(disposition: str, expected: str) -> None:
    assert ctr(Attributes={"disposition": disposition}) == expected


def test_a_deployments_wrap_up_codes_map_to_outcomes() -> None:
    settings = {"disposition_outcomes": {"Bill explained": "resolved", "callback-promised": "UNRESOLVED"}}
    record = {**ANSWERED_CTR}
    assert outcome_of(mapper_ctr.map_ctr(record, context(**settings))) == "RESOLVED"  # "bill-explained"
    with pytest.raises(ValidationError, match="unknown outcomes"):
        call_center_settings(disposition_outcomes={"done": "FIXED"})


def test_abandoned_and_transferred_are_facts_a_wrap_up_code_does_not_change() -> None:
    abandoned = {**ABANDONED_CTR, "Attributes": {"disposition": "resolved"}}
    assert outcome_of(mapper_ctr.map_ctr(abandoned, context())) == "ABANDONED"
    assert ctr(Attributes={"disposition": "resolved"}, NextContactId="c-next") == "TRANSFERRED"


@pytest.mark.parametrize(("reason", "connected", "expected"), [
    ("CUSTOMER_DISCONNECT", True, "UNKNOWN"), ("AGENT_DISCONNECT", True, "UNKNOWN"),
    ("TELECOM_PROBLEM", True, "UNRESOLVED"), ("TELECOM_PROBLEM", False, "ABANDONED"),
    ("OUTBOUND_ATTEMPT_FAILED", False, "ABANDONED"), ("OUTBOUND_DESTINATION_ENDPOINT_ERROR", False, "ABANDONED"),
])
def test_connects_disconnect_reason_gives_the_outcome_without_a_wrap_up(reason: str, connected: bool,
                                                                      expected: str) -> None:
    changes: dict[str, Any] = {"DisconnectReason": reason, "Attributes": {"disposition": None}}
    if not connected:  # an outbound campaign call that never reached the customer: no queue, no agent
        changes |= {"Agent": None, "Queue": None, "InitiationMethod": "OUTBOUND"}
    assert ctr(**changes) == expected


@pytest.mark.parametrize(("cdr_disposition", "expected"), [
    ("ANSWERED", "UNKNOWN"), ("NO ANSWER", "ABANDONED"), ("BUSY", "ABANDONED"), ("FAILED", "ABANDONED"),
    ("CONGESTION", "ABANDONED"),
])
def test_asterisks_disposition_gives_the_outcome_of_a_call_that_never_queued(cdr_disposition: str,
                                                                             expected: str) -> None:
    line = OUTBOUND_CDR.replace('"ANSWERED"', f'"{cdr_disposition}"').replace('"callback-done"', '""')  # no userfield
    assert outcome_of(mapper_asterisk.map_cdr(line, context())) == expected


def test_asterisks_queued_calls_keep_their_outcomes() -> None:
    assert outcome_of(mapper_asterisk.map_cdr(QUEUED_NO_ANSWER_CDR, context())) == "ABANDONED"
    with_userfield = INBOUND_CDR.replace('"payment-plan-agreed"', '"resolved"')  # the agent's wrap-up (userfield)
    assert outcome_of(mapper_asterisk.map_cdr(with_userfield, context())) == "RESOLVED"


def test_a_task_no_worker_accepted_reached_no_one_even_outside_a_queue() -> None:
    *callbacks, answered = sample("taskrouter_answered.json")
    timeline = Timeline()
    for callback in callbacks:
        timeline = mapper_taskrouter.record(timeline, callback)
    canceled = {key: value for key, value in sample("taskrouter_abandoned.json")[-1].items()
                if key not in ("TaskQueueName", "TaskQueueEnteredDate")}  # the timeline lost the queue
    assert outcome_of(mapper_taskrouter.map_task(canceled, Timeline(), context("lyon"))) == "ABANDONED"
    attributes = json.loads(answered["TaskAttributes"]) | {"disposition": "resolved"}
    resolved = {**answered, "TaskAttributes": json.dumps(attributes)}
    assert outcome_of(mapper_taskrouter.map_task(resolved, timeline, context("lyon"))) == "RESOLVED"


def test_every_outcome_the_rules_give_is_a_symbol_of_the_contract() -> None:
    given = {outcome.ABANDONED, outcome.TRANSFERRED, outcome.UNRESOLVED, *outcome.ASTERISK_ENDED.values(),
             *outcome.CONNECT_ENDED.values(), *outcome.TASKROUTER_ENDED.values()}
    assert given <= INTERACTION_OUTCOMES and outcome.UNKNOWN == "UNKNOWN"

"""Another service request under a used ``request_id`` that reached another web replica: answered 200 there, refused
by the handoff tracker as ``duplicate_creation``, and opened by ``redrive --new-id`` as the case the web hall's own
``request_id_conflict`` re-issue opens (in process: two mappers with no shared dedupe are two replicas)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.web.mapper import SegmentMapper
from adapters.web.reissue import reissued
from adapters.web.reissue_creation import REISSUED_FROM_FACT, NotReissuable, reissued_creation
from bus.clock import ManualClock
from bus.config import OmnibusSettings, TopicSettings
from bus.errors import RawRecord
from bus.serde import Event, SerdeContext, SingleObjectDeserializer, SingleObjectSerializer
from omnibus.reissues import creation_reissue, reissues
from processors.deadletters import DeadLetter
from processors.deadletters.new_id import Operator, Reissue, redrive_new_id, refusal
from processors.handoffs.config import HandoffPolicy
from processors.handoffs.outputs import CREATED, Emitter
from processors.handoffs.tracker import COMPONENT, Destinations, HandoffTracker
from schemas.catalog import default_catalog
from tests.adapters.web.support import web_settings
from tests.adapters.web.test_ingress_id_conflict import case_request
from tests.processors.deadletters.test_init import letter
from tests.processors.handoffs.factories import SYSTEM, FakeDeadLetters, FakePublisher, created

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
SETTINGS = OmnibusSettings()
TOPIC = "omnibus.handoff.events.v1"
CATALOG = default_catalog()


def creation(message: dict[str, Any]) -> Event:
    """The HandoffCreated one web replica publishes for ``message`` (its own dedupe never saw the other)."""
    mapped = SegmentMapper(web_settings(), TopicSettings())(message, source="portal-web", call="track",
                                                             received_at=T0)
    (event,) = [o.event for o in mapped.events if o.event.schema == CREATED]
    return event


def tracker() -> HandoffTracker:
    return HandoffTracker(HandoffPolicy(), Emitter(SYSTEM, ManualClock(T0)), {}, FakePublisher(), FakeDeadLetters(),
                          Destinations("events", "notifications"))


def raw(event: Event, offset: int) -> RawRecord:
    value = SingleObjectSerializer(CATALOG)(event, SerdeContext(topic=TOPIC))
    return RawRecord(value=value, key=event.value["handoff_id"].encode(), topic=TOPIC, partition=0, offset=offset)


def tracker_letter(event: Event, error_type: str = "IllegalTransition:duplicate_creation",
                   component: str = COMPONENT) -> DeadLetter:
    return letter(raw(event, 7), error_type=error_type, component=component)


def known() -> dict[str, Reissue]:
    return {**reissues(SETTINGS), COMPONENT: creation_reissue(SETTINGS, SingleObjectDeserializer(CATALOG))}


async def test_a_second_request_under_a_used_request_id_on_another_replica_opens_its_own_case_once() -> None:
    """tester24 F17 through two replicas: "attempt 2" under REQ-42 was answered 200 by the replica that never saw
    "attempt 1", and the tracker dead-lettered it (``duplicate_creation``): its text only recoverable by hand. Its
    dead letter now re-issues as ``REQ-42:<8 hex>``, linked to REQ-42, applied by the tracker once."""
    first, second = creation(case_request("attempt 1", "m-req-1")), creation(case_request("attempt 2", "m-req-2"))
    t = tracker()
    assert await t.handle(first, raw(first, 1)) == "applied"
    assert await t.handle(second, raw(second, 2)) == "illegal"
    assert [w["error_type"] for w in t.dead_letters.written] == ["IllegalTransition:duplicate_creation"]

    dead = tracker_letter(second)
    assert refusal(dead, known()) is None
    (outcome,) = await redrive_new_id(SETTINGS, [dead], known(), Operator("ops-1", "two replicas"), dry_run=True,
                                      check_done=False)
    assert outcome.action == "would_redrive" and outcome.at is not None
    assert outcome.at.startswith(f"{TOPIC} as handoff_id REQ-42:")

    reissue = known()[COMPONENT].reissue
    again = reissue(dead)
    (out,) = again.events
    assert again == reissue(dead)  # the same ids each time: a second re-issue is a copy the tracker drops
    new_id = again.new_ids["handoff_id"]
    assert (out.topic, out.key, out.event.value["handoff_id"]) == (TOPIC, new_id, new_id)
    value = out.event.value
    assert value["summary"] == "attempt 2" and value["intake_facts"][REISSUED_FROM_FACT] == "REQ-42"
    assert value["envelope"]["causation_id"] == second.value["envelope"]["event_id"]
    assert value["envelope"]["event_id"] != second.value["envelope"]["event_id"]
    SingleObjectSerializer(CATALOG)(out.event, SerdeContext(topic=TOPIC))  # a valid HandoffCreated

    assert await t.handle(out.event, raw(out.event, 3)) == "applied"
    assert await t.handle(out.event, raw(out.event, 4)) == "duplicate"
    assert sorted(t.store) == ["REQ-42", new_id] and len(t.dead_letters.written) == 1


@pytest.mark.parametrize("case_field", ["request_id", "case_id"])
def test_the_case_id_is_the_one_the_web_halls_own_re_issue_gives(case_field: str) -> None:
    """Whichever replica took the second request (refused 400 ``request_id_conflict`` where the first was seen,
    answered 200 elsewhere), ``--new-id`` opens it under one case id and one messageId."""
    message = {**case_request("attempt 2", "m-req-2", case_field, "C-7"), "timestamp": T0.isoformat()}
    mapper = SegmentMapper(web_settings(), TopicSettings())
    web_ids, record = reissued("request_id_conflict", json.dumps(message).encode(), {"http.path": "/v1/track",
                                                                        "segment.source": "portal-web"}, T0, mapper)
    tracker_ids, value = reissued_creation(creation(message).value)
    assert tracker_ids["handoff_id"] == web_ids[case_field]
    assert value["envelope"]["source_event_id"] == web_ids["messageId"]


def test_only_a_web_creation_refused_as_a_duplicate_is_re_issued() -> None:
    """The rest of the kind's edges: another channel's creation keeps its system's id; a tracker dead letter of
    another code and another processor's dead letter go back as they were (plain redrive); a letter that is no
    HandoffCreated is refused with why."""
    call_center = tracker_letter(created("CC-1"))
    (outcome,) = asyncio.run(redrive_new_id(SETTINGS, [call_center], known(), Operator("ops-1", "x"), dry_run=True,
                                            check_done=False))
    assert outcome.action == "refused" and outcome.reason is not None and "CALL_CENTER" in outcome.reason
    web_first = created("W-1", channel="WEB")  # a creation of the release before: no content digest
    with pytest.raises(NotReissuable, match="origin_interaction_id"):
        reissued_creation(web_first.value)

    second = creation(case_request("attempt 2", "m-req-2"))
    other_code = refusal(tracker_letter(second, error_type="IllegalTransition:unknown_handoff"), known())
    assert other_code is not None and "without --new-id" in other_code and "duplicate_creation" in other_code
    identity = refusal(tracker_letter(second, component="identity"), known())
    assert identity is not None and "read from a topic" in identity

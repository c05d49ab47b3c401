"""A counter transaction uploaded, then uploaded again corrected (same transaction, a new ``event_id``), is one case on
``handoff.events`` and at the tracker: the real branch adapter, broker and tracker worker, no dead letter (before:
the correction was refused ``duplicate_creation``; ``bus.handoff_revisions``)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from contextlib import AsyncExitStack

import pytest

from bus.clock import ManualClock
from bus.handoff_revisions import SOURCE_RECORD_FACT
from processors.handoffs.config import HandoffPolicy
from tests.adapters.branch.support import TOKENS, start_branch
from tests.adapters.branch.test_mapper_handoff_versions import upload
from tests.processors.handoffs.broker import Watcher, running_worker
from tests.processors.handoffs.factories import T0
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka

CORRECTED = "Reading 40 times too high"


def statuses(watcher: Watcher) -> list[dict]:
    return [e.value for e in watcher.events("HandoffStatusChanged")]


async def uploaded(bootstrap_servers: str, bodies: list[dict], until: Callable[[dict], bool], what: str) -> Watcher:
    """The watcher of ``handoff.events`` once ``bodies`` were uploaded in order to the real branch adapter, with the
    tracker worker running, until a ``HandoffStatusChanged`` that ``until`` holds of came."""
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    watcher = Watcher(settings)
    async with AsyncExitStack() as stack:
        client = await start_branch(stack, settings)
        await watcher.start()
        stack.push_async_callback(watcher.stop)
        async with running_worker(settings, HandoffPolicy(), ManualClock(T0)):
            for body in bodies:
                answer = await client.post(json.dumps(body).encode(), TOKENS[body["terminal_id"]])
                assert answer.accepted, answer
            await watcher.until(lambda: any(until(s) for s in statuses(watcher)), what=what)
    return watcher


async def test_a_corrected_counter_upload_revises_its_case_without_a_dead_letter(bootstrap_servers: str) -> None:
    first, corrected = upload(), upload("0b7e1f7c-2d1a-4c55-9e0a-7f3c2b1d4e55", summary=CORRECTED)
    watcher = await uploaded(bootstrap_servers, [first, corrected], lambda s: s["summary"] == CORRECTED,
                             "the corrected summary")
    created = [e.value for e in watcher.events("HandoffCreated")]
    case = "counter:CT-0142-03:TX-CT-0142-03-000981"
    assert {c["handoff_id"] for c in created} == {case} and len(created) == 2
    assert {c["intake_facts"][SOURCE_RECORD_FACT] for c in created} == {case}
    assert len({c["envelope"]["event_id"] for c in created}) == 2
    by_creation = [s["summary"] for s in statuses(watcher) if s["cause"] == "omnibus.handoff.HandoffCreated"]
    assert by_creation == ["Reading 4 times too high", CORRECTED]
    assert [e.value["resend_count"] for e in watcher.events("HandoffRouted")].count(0) == 1  # routed once
    assert watcher.events("DeadLetter") == []


async def test_an_older_counter_upload_after_the_correction_leaves_the_case_as_corrected(
        bootstrap_servers: str) -> None:
    """The first upload at 09:37, its correction sent at 10:37, then an upload of 10:07 (one refused at first, as a
    re-drive publishes it): the case keeps the correction (``intake_facts.source_version``, the ``occurred_at``). A
    visit following the case up afterwards (same partition: the tracker read the older upload before it) shows the
    case as corrected, and nothing is dead-lettered."""
    sent = [at_time(upload(), "09:37"),
            at_time(upload("0b7e1f7c-2d1a-4c55-9e0a-7f3c2b1d4e55", summary=CORRECTED), "10:37"),
            at_time(upload("5c2d9e1a-7b3f-4e8d-a1c6-2f9e8d7c6b55", summary="Reading 10 times"), "10:07")]
    case = "counter:CT-0142-03:TX-CT-0142-03-000981"
    visit = at_time(copy.deepcopy(sent[0]), "11:00")
    visit["events"][0]["event_id"] = "8e3f2a1b-4c5d-4e6f-9a0b-1c2d3e4f5a66"
    visit["events"][0]["transaction"] = {"id": "TX-CT-0142-03-000990", "type": "complaint-follow-up",
                                         "status": "completed", "follow_up": {"handoff_id": case}}
    watcher = await uploaded(bootstrap_servers, [*sent, visit], lambda s: s["follow_ups"] == 1, "the follow-up")
    assert len(watcher.events("HandoffCreated")) == 3
    by_creation = [s["summary"] for s in statuses(watcher) if s["cause"] == "omnibus.handoff.HandoffCreated"]
    assert by_creation == ["Reading 4 times too high", CORRECTED]  # the older upload published nothing
    (followed,) = [s for s in statuses(watcher) if s["follow_ups"] == 1]
    assert followed["summary"] == CORRECTED
    assert watcher.events("DeadLetter") == []


def at_time(body: dict, hh_mm: str) -> dict:
    """``body`` with its event's ``occurred_at`` on 2026-12-04 at ``hh_mm`` (Madrid, winter)."""
    body["events"][0]["occurred_at"] = f"2026-12-04T{hh_mm}:00+01:00"
    return body

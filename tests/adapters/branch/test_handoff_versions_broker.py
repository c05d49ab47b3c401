"""A counter transaction uploaded, then uploaded again corrected (same transaction, a new ``event_id``), is one case on
``handoff.events`` and at the tracker: the real branch adapter, broker and tracker worker, no dead letter (before:
the correction was refused ``duplicate_creation``; ``bus.handoff_revisions``)."""

from __future__ import annotations

import json
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


async def test_a_corrected_counter_upload_revises_its_case_without_a_dead_letter(bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    first, corrected = upload(), upload("0b7e1f7c-2d1a-4c55-9e0a-7f3c2b1d4e55", summary=CORRECTED)
    watcher = Watcher(settings)

    def statuses() -> list[dict]:
        return [e.value for e in watcher.events("HandoffStatusChanged")]

    async with AsyncExitStack() as stack:
        client = await start_branch(stack, settings)
        await watcher.start()
        stack.push_async_callback(watcher.stop)
        async with running_worker(settings, HandoffPolicy(), ManualClock(T0)):
            for sent in (first, corrected):
                answer = await client.post(json.dumps(sent).encode(), TOKENS[sent["terminal_id"]])
                assert answer.accepted, answer
            await watcher.until(lambda: any(s["summary"] == CORRECTED for s in statuses()),
                                what="the corrected summary")
    created = [e.value for e in watcher.events("HandoffCreated")]
    case = "counter:CT-0142-03:TX-CT-0142-03-000981"
    assert {c["handoff_id"] for c in created} == {case} and len(created) == 2
    assert {c["intake_facts"][SOURCE_RECORD_FACT] for c in created} == {case}
    assert len({c["envelope"]["event_id"] for c in created}) == 2
    by_creation = [s["summary"] for s in statuses() if s["cause"] == "omnibus.handoff.HandoffCreated"]
    assert by_creation == ["Reading 4 times too high", CORRECTED]
    assert [e.value["resend_count"] for e in watcher.events("HandoffRouted")].count(0) == 1  # routed once
    assert watcher.events("DeadLetter") == []

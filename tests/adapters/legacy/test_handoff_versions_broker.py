"""A ticket row polled, updated and polled again is one case on ``handoff.events`` and at the tracker: real
PostgreSQL, the real broker and the real tracker worker, no dead letter (``bus.handoff_revisions``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from adapters.base.checkpoint import Checkpoint
from adapters.base.runtime import adapter_runtime
from adapters.legacy.config import PollerSettings
from adapters.legacy.ingress_poller import TablePoller
from bus.clock import ManualClock
from bus.handoff_revisions import SOURCE_RECORD_FACT
from bus.topics import HANDOFF_EVENTS
from processors.handoffs.config import HandoffPolicy
from tests.adapters.legacy.support import SOURCE, legacy_context, legacy_settings
from tests.processors.handoffs.broker import Watcher, running_worker
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]


async def test_an_updated_ticket_row_stays_one_case_without_a_dead_letter(
    exit_stack: AsyncExitStack, bootstrap_servers: str, postgres_dsn: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    table = f"tickets_{uuid.uuid4().hex[:8]}"
    spec = PollerSettings(name="tickets", table=table, primary_key="id", event_type="HandoffCreated", safety_lag_s=1)
    ctx = replace(legacy_context(settings.topics), handoff_topic=HANDOFF_EVENTS.name(settings.topics))
    runtime = await exit_stack.enter_async_context(
        adapter_runtime("legacy", settings, legacy_settings(tmp_path, postgres_dsn)))
    conn = await exit_stack.enter_async_context(await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True))
    await conn.execute(f"CREATE TABLE {table} (id text PRIMARY KEY, case_type text, summary text, phone text, "
                       "updated_at timestamptz NOT NULL)")

    # another state directory: a replica (or a restore) that lost the position and the dedupe store alike
    replica = await exit_stack.enter_async_context(
        adapter_runtime("legacy", settings, legacy_settings(tmp_path / "replica", postgres_dsn)))

    def poller(checkpoint: str, publisher: object = runtime.publisher) -> TablePoller:
        return TablePoller(spec, ctx, publisher, Checkpoint(tmp_path / checkpoint))  # type: ignore[arg-type]

    async def write(summary: str, updated_at: str) -> None:
        await conn.execute(f"INSERT INTO {table} VALUES ('T-1', 'meter-dispute', %s, '+34612000025', %s) "
                           "ON CONFLICT (id) DO UPDATE SET summary = excluded.summary, updated_at = excluded.updated_at",
                           [summary, updated_at])

    watcher = Watcher(settings)
    await watcher.start()
    exit_stack.push_async_callback(watcher.stop)
    case = f"legacy:{SOURCE}:poll:tickets:T-1"
    polling = poller("tickets.json")
    # the tracker's clock after the adapter's receipt (wall clock): the rows' deadline passed long before their
    # sending, so the case breaches at its sending and the customer's RECEIVED comes with the breach
    async with running_worker(settings, HandoffPolicy(), ManualClock(datetime.now(UTC) + timedelta(minutes=5))):
        await write("Estimated reading", "2024-03-05T10:00:00+00:00")
        assert (await polling.run_once(conn)).published == ["T-1"]
        await write("Estimated reading", "2024-03-05T11:00:00+00:00")  # updated, nothing the case shows changed
        await polling.run_once(conn)
        await write("Estimated reading; photo of the meter sent", "2024-03-05T12:00:00+00:00")
        await polling.run_once(conn)
        await poller("again.json", replica.publisher).run_once(conn)  # the latest version polled again: a copy

        def statuses() -> list[dict]:
            return [e.value for e in watcher.events("HandoffStatusChanged") if e.value["handoff_id"] == case]

        await watcher.until(lambda: any(s["summary"].endswith("photo of the meter sent") for s in statuses()),
                            what="the case's revised summary")
        await watcher.until(lambda: len(watcher.events("HandoffCreated")) >= 4, what="the four creations read")
        await watcher.until(lambda: any(n.value["kind"] == "RECEIVED" for n in watcher.events("CustomerNotification")),
                            what="the customer's RECEIVED")
    created = [e.value for e in watcher.events("HandoffCreated")]
    assert {c["handoff_id"] for c in created} == {case}
    assert {c["intake_facts"][SOURCE_RECORD_FACT] for c in created} == {case}
    assert len({c["envelope"]["event_id"] for c in created}) == 3  # three versions; the re-poll is the third's copy
    by_creation = [(s["status"], s["summary"]) for s in statuses() if s["cause"] == "omnibus.handoff.HandoffCreated"]
    assert by_creation == [("ROUTED", "Estimated reading"), ("ROUTED", "Estimated reading; photo of the meter sent")], (
        [(s["version"], s["cause"]) for s in statuses()])
    # routed once (the clock, past the rows' times, re-sends that work order unacknowledged: resend_count 1, 2...)
    assert [e.value["resend_count"] for e in watcher.events("HandoffRouted")].count(0) == 1
    # the customer is told of the case when it was opened, never of a later version (the clock, past the rows'
    # times, also sends the deadline's notifications)
    notices = watcher.events("CustomerNotification")
    later = {c["envelope"]["event_id"] for c in created[1:]} - {created[0]["envelope"]["event_id"]}
    assert not {n.value["envelope"]["causation_id"] for n in notices} & later
    assert [n.value["kind"] for n in notices].count("RECEIVED") == 1
    assert watcher.events("DeadLetter") == []

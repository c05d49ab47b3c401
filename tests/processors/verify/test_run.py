"""Broker test of ``omnibus verify``: a clean identity run verifies; a stale row written after it is found."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde
from bus.topics import CUSTOMER_EVENTS, CUSTOMER_IDENTIFIERS
from processors.verify.ledger import write_ledger
from processors.verify.placement import HANDOFF_CUSTOMER, ONE_CONTACT
from processors.verify.run import averify
from tests.processors.identity.broker import running_workers, wait_until_quiet, watched_topics
from tests.processors.identity.support import unlimited_settings
from tests.processors.identity.test_agent import publish, workload
from tests.support.groups import commit_to_end
from tests.support.kafka_io import read_events
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka


@pytest.mark.timeout(240)
async def test_a_clean_run_verifies_and_a_stale_row_written_after_it_is_reported(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=4)
    identity = unlimited_settings()
    items = workload(size=160, universe=60, seed=4)
    await publish(settings, items)
    async with running_workers(settings, identity, tmp_path, 2) as workers:
        await wait_until_quiet(settings, watched_topics(workers[0]), workers[0].app.conf.id, quiet_s=3)
    ledger = tmp_path / "ledger.jsonl"
    write_ledger(ledger, [(event.value["envelope"]["event_id"], suffix) for suffix, event in items])

    report = await averify(settings, processors=("identity",), identity=identity, ledger=ledger)
    print("\n".join(report.lines()))
    assert report.ok, "\n".join(report.lines())
    assert report.figures["events"] == len(items) and report.figures["lost"] == 0
    assert report.check("identity: every identifier of an accepted input is assigned").checked > 50
    assert report.check(ONE_CONTACT).checked == len(items) // 2  # each call its own contact, on one customer

    # A stale worker's late row: newer version, naming a customer that was merged away.
    merged = next(e.event.value for e in await read_events(settings, CUSTOMER_EVENTS)
                  if e.event.schema.endswith(".CustomerMerged"))
    current = {e.key: e for e in await read_events(settings, CUSTOMER_IDENTIFIERS)}  # a clean run: last write
    shared = Counter(e.event.value["customer_id"] for e in current.values())
    row = next(e for e in current.values() if shared[e.event.value["customer_id"]] > 1)  # moving it splits one
    stale = {**row.event.value, "customer_id": merged["merged_customer_id"], "version": row.event.value["version"] + 5}
    serializer, _ = build_serde(settings.registry)
    async with EventProducer(settings, serializer) as producer:
        await producer.publish_many([Outgoing(CUSTOMER_IDENTIFIERS.name(settings.topics), row.key,
                                              Event(row.event.schema, stale))])
    write_ledger(ledger, [("never-acknowledged-anywhere", "identity.observed.v1")])

    report = await averify(settings, processors=("identity",), identity=identity, ledger=ledger)
    assert not report.ok
    assert report.figures["stale rows"] == 1
    assert len(report.check("ledger: every acknowledged event is on an input topic").failures) == 1
    assert report.check("identity: identifiers are grouped as the recomputation groups them").failures


@pytest.mark.timeout(180)
async def test_a_tracked_handoff_run_verifies_and_an_event_the_tracker_never_saw_is_lost(
    bootstrap_servers: str,
) -> None:
    from datetime import timedelta

    from bus.clock import ManualClock
    from bus.topics import HANDOFF_EVENTS
    from tests.processors.handoffs.broker import Watcher, running_worker
    from tests.processors.handoffs.factories import T0, accepted, acknowledged, created, resolved
    from tests.processors.handoffs.test_agent import POLICY

    settings = await settings_with_topics(bootstrap_servers, partitions=3)
    topic = HANDOFF_EVENTS.name(settings.topics)
    watcher = Watcher(settings)
    await watcher.start()
    serializer, _ = build_serde(settings.registry)
    hour = timedelta(hours=1)
    async with EventProducer(settings, serializer) as producer, running_worker(settings, POLICY, ManualClock(T0)):
        await producer.publish_many([item for h in ("A", "B", "C") for item in (
            Outgoing(topic, h, created(h)), Outgoing(topic, h, accepted(h, T0 + hour)))]
            + [Outgoing(topic, "A", resolved("A", T0 + 2 * hour)), Outgoing(topic, "ghost", acknowledged("ghost", T0))])
        await watcher.until(lambda: any(e.value["status"] == "RESOLVED"
                                        for e in watcher.events("HandoffStatusChanged")))
        await watcher.until(lambda: len(watcher.events("DeadLetter")) >= 1)  # copies of a redelivery: same id
        await asyncio.sleep(3)  # the table's changelog written
    await watcher.stop()
    report = await averify(settings, processors=("handoffs",), handoffs_policy=POLICY)
    assert report.ok, "\n".join(report.lines())
    assert report.figures["events"] == 8 and report.figures["lost"] == 0
    assert report.check(HANDOFF_CUSTOMER).checked == 0  # no identity in this run: no placement to compare with

    async with EventProducer(settings, serializer) as producer:  # accepted while no tracker runs
        await producer.publish_many([Outgoing(topic, "Z", created("Z"))])
    # tester29 F11: not read yet is not lost: the tracker's group has not committed it, nothing is judged.
    report = await averify(settings, processors=("handoffs",), handoffs_policy=POLICY)
    assert not report.judged and not report.ok and report.checks == [] and "lost" not in report.figures
    assert [(u.processor, u.group, u.topic, u.records) for u in report.unread] == [
        ("handoffs", f"{settings.topics.prefix}.handoffs", topic, 1)]
    # The group moves past it (a tracker that skipped it): now it was read, and nothing reflects it: lost.
    await commit_to_end(settings, f"{settings.topics.prefix}.handoffs", topic)
    report = await averify(settings, processors=("handoffs",), handoffs_policy=POLICY)
    assert report.judged and report.figures["lost"] == 1
    assert not report.check("handoffs: tracker table equals the recomputation from its inputs").ok


@pytest.mark.timeout(240)
async def test_tester29_f11_verify_right_after_publishing_says_not_read_yet_then_waits_for_the_lag(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    """tester29 F11: ``omnibus verify`` run right after an import, identity not caught up, said "lost 9999", exit 1.
    Published with no identity worker reading: nothing judged, the unread records counted per topic, exit 75 from
    the command; with the workers running, ``wait_s`` waits for the lag to reach 0 and the run verifies."""
    from typer.testing import CliRunner

    from omnibus.cli import app
    from processors.verify.cli import NOT_READ_YET_EXIT

    settings = await settings_with_topics(bootstrap_servers, partitions=2)
    identity = unlimited_settings()
    items = workload(size=40, universe=20, seed=7)
    await publish(settings, items)

    report = await averify(settings, processors=("identity",), identity=identity)
    assert not report.judged and report.checks == [] and "lost" not in report.figures
    assert sum(u.records for u in report.unread) == len(items)
    assert {u.group for u in report.unread} == {f"{settings.topics.prefix}.identity"}
    env = {"OMNIBUS_TOPICS__PREFIX": settings.topics.prefix, "OMNIBUS_TOPICS__PARTITIONS": "2", "COLUMNS": "300"}
    result = await asyncio.to_thread(CliRunner().invoke, app, [
        "verify", "--processor", "identity", "--bootstrap-servers", bootstrap_servers], env=env)
    assert result.exit_code == NOT_READ_YET_EXIT, result.output
    shown = " ".join(result.output.split())
    assert "records not read yet on" in shown and "run again when its consumer lag is 0" in shown
    assert "FAIL" not in shown and "lost 0" not in shown

    async with running_workers(settings, identity, tmp_path, 1):
        report = await averify(settings, processors=("identity",), identity=identity, wait_s=120)
    assert report.judged and report.ok, "\n".join(report.lines())
    assert report.figures["lost"] == 0

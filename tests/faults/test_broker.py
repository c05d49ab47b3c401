"""#13 build 5: the broker fails under load, with the web adapter receiving and the processors running.

* a hard restart: ``kill -9`` of the broker and ``omnibus stack up`` at once (same data dir and port);
* the broker down for 60 s while clients keep posting, then back; it strikes as soon as every processor has
  joined its group, while identity restores its tables and starts its lazy producer (a worker meeting the outage
  early: start-up, recovery, first batch). A restore step that outlived faust's ``broker_request_timeout`` (90 s:
  60 s down plus a slow ``stack up``) used to end the recovery for good, identity alive and processing nothing
  (``bus.recovery_timeout``).

The hard restart strikes in steady state, once ``FLOWING`` tracks were acknowledged; after the broker is back
traffic goes on until ``FLOWING`` calls sent since were acknowledged (was: 20 s of traffic before and after each).

Every process is started by the project's own commands (``tests.faults.stack``). Clients post Segment
tracks all along and, like Segment's SDKs, send again what was not answered 2xx once the broker is back.
Expected: 2xx only for what Kafka acknowledged (the others 503 with Retry-After, never another status),
every acknowledged track on ``contact.events`` and processed by identity onto ``customer.contacts``,
copies only with the same event id, no processor stopped, every group committed to the end.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest

from bus.topics import CONTACT_EVENTS, CUSTOMER_CONTACTS
from tests.adapters.web.support import message_id_of
from tests.support.commit_stall import CommitStalls, uncommitted
from tests.faults.stack import Stack, stack
from tests.faults.traffic import WebTraffic
from tests.support.fault_report import machine, record_fault
from tests.support.kafka_io import read_events

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

RUNNING = ("identity", "kpis")  # processors reading the tracks (their inputs named in GROUP_INPUTS)
FLOWING = 50  # tracks acknowledged before a steady-state fault, and again after the broker is back


def group_inputs(running: Stack) -> dict[str, set[str]]:
    topics = running.settings().topics
    return {running.group("identity"): {CONTACT_EVENTS.name(topics)},
            running.group("kpis"): {CONTACT_EVENTS.name(topics), CUSTOMER_CONTACTS.name(topics)}}


async def broker_fault(tmp_path: Path, name: str, down_s: float, *, early: bool) -> None:
    """``early``: strike once every processor joined its group (restoring, starting); else once ``FLOWING`` tracks
    were acknowledged as well."""
    with stack(tmp_path) as running:
        procs = {name: running.processor(name) for name in RUNNING}
        web = running.web_adapter(publish_timeout_s="3", retry_after_s="2")
        assert web.port is not None
        traffic = WebTraffic(web.port)
        stalls = CommitStalls(running.bootstrap_servers, group_inputs(running))
        sending = asyncio.ensure_future(traffic.run())
        watching = asyncio.ensure_future(stalls.run())
        await running.joined(procs)
        if not early:
            await traffic.until_accepted(FLOWING)
        accepted_before = len(traffic.accepted())
        running.broker_kill9()
        killed_at = time.monotonic()
        await asyncio.sleep(down_s)
        restart_s = await asyncio.to_thread(running.broker_up)
        back_at = time.monotonic()
        await traffic.until_accepted(FLOWING, sent_after=back_at, timeout_s=180)  # new calls acknowledged again
        traffic.stop()
        await sending
        away = [a for a in traffic.answers if killed_at <= a.sent_at < back_at]
        statuses = traffic.statuses()
        refused = [a for a in traffic.answers if a.status == 503]
        resent = await traffic.resend_refused()
        accepted = traffic.accepted()
        settings = running.settings()
        deadline, lag, processed = time.monotonic() + 240, {}, set()
        while time.monotonic() < deadline:
            stopped = [p for p, proc in procs.items() if not proc.alive()]
            assert not stopped, "\n".join(f"{p} stopped:\n{procs[p].tail()}" for p in stopped)
            lag = {group: await uncommitted(running.bootstrap_servers, group, topics)
                   for group, topics in group_inputs(running).items()}
            contacts = await read_events(settings, CUSTOMER_CONTACTS)
            processed = {message_id_of(c.event.value["interaction_id"]) for c in contacts
                         if c.event.schema == "omnibus.contact.InteractionRecorded"}
            if accepted <= processed and not any(lag.values()):
                break
            await asyncio.sleep(3)
        recovered_s = time.monotonic() - back_at
        stalls.stop()
        await watching
        published = [e.event.value for e in await read_events(settings, CONTACT_EVENTS)
                     if e.event.schema == "omnibus.contact.InteractionRecorded"]
        report = await running.verify()
        alive = {p: proc.alive() for p, proc in procs.items()} | {"web": web.alive()}
    on_topic = {message_id_of(value["interaction_id"]) for value in published}  # the calls' messageIds
    copies = Counter(message_id_of(value["interaction_id"]) for value in published)
    event_ids: dict[str, set[str]] = {}
    for value in published:
        event_ids.setdefault(message_id_of(value["interaction_id"]), set()).add(value["envelope"]["event_id"])
    conflicting = [i for i, ids in event_ids.items() if len(ids) > 1]
    lost = accepted - processed
    other = {status: count for status, count in statuses.items() if status not in (200, 503)}
    no_retry_after = [a for a in refused if not a.retry_after]
    struck = "as soon as every processor had joined its group" if early else \
        f"once {FLOWING} tracks were acknowledged"
    record_fault(f"broker-{name}", (
        f"## Broker {'hard restart (kill -9, restarted at once)' if not down_s else f'down {down_s:.0f} s'} "
        "with the web adapter receiving\n\n"
        f"`pytest tests/faults/test_broker.py -k {'hard' if not down_s else 'down'}` — own broker (`omnibus stack up`), "
        f"web adapter (publish timeout 3 s), {', '.join(RUNNING)} as processes, 2 partitions; {machine()}.\n\n"
        f"Struck {struck} ({accepted_before} acknowledged by then); after the restart, traffic until {FLOWING} "
        "new calls were acknowledged.\n\n"
        "| sent (calls) | 2xx | 503 (all with Retry-After) | other | resent after | acknowledged in the end | "
        "lost | copies on contact.events (same event id) | conflicting | `omnibus verify`: lost, copies, "
        "conflicting, stale rows | broker back after | time to recover | max commit stall |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        f"| {len(traffic.answers) - len(resent)} | {statuses.get(200, 0)} | {len(refused)}"
        f"{'' if not no_retry_after else f' ({len(no_retry_after)} without)'} | {sum(other.values())} | "
        f"{len(resent)} | {len(accepted)} | {len(lost)} | {sum(copies.values()) - len(copies)} | {len(conflicting)} | "
        f"{', '.join(str(report.figures.get(k, 0)) for k in ('lost', 'duplicates', 'conflicting', 'stale rows'))} | "
        f"{back_at - killed_at:.0f} s (`stack up` {restart_s:.0f} s) | {recovered_s:.0f} s | "
        f"{stalls.max_stall_s:.0f} s |\n\n"
        f"Calls sent while the broker was away (until `stack up` returned): {len(away)}, answered "
        f"{dict(Counter(a.status for a in away))} (a 200: Kafka acknowledged it within the publish timeout).\n"))
    assert all(alive.values()), alive
    assert not other, other
    assert not no_retry_after
    assert refused, "no call was refused: the broker's absence was not noticed"
    assert not traffic.pending(), f"{len(traffic.pending())} calls never answered 2xx after the broker returned"
    assert accepted <= on_topic, f"acknowledged but not on contact.events: {sorted(accepted - on_topic)[:10]}"
    assert not lost, (f"acknowledged but not processed by identity: {len(lost)} of {len(accepted)}, e.g. "
                      f"{sorted(lost)[:10]}; uncommitted per group {lag}; identity's last lines:\n"
                      f"{procs['identity'].tail(12)}")
    assert not conflicting, conflicting[:10]
    assert not any(lag.values()), lag
    assert stalls.max_stall_s < 60
    assert report.ok, "\n".join(report.lines())


@pytest.mark.timeout(900)
async def test_hard_broker_restart_loses_nothing_acknowledged(tmp_path: Path) -> None:
    await broker_fault(tmp_path, "hard-restart", down_s=0, early=False)


@pytest.mark.timeout(900)
async def test_broker_down_60_s_early_answers_503_and_loses_nothing_acknowledged(tmp_path: Path) -> None:
    await broker_fault(tmp_path, "down-60s", down_s=60, early=True)

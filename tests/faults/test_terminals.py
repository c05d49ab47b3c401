"""#13 build 5: a counter terminal offline for a simulated day, then 50 terminals reconnecting at once.

While the branch was cut off, each terminal's software kept recording into its local journal
(``omnibus counter-agent enqueue``): terminal 0 a whole day (one transaction every 2 minutes, times spread
over the last 24 hours), the 49 others a morning's worth. Then the branch adapter (``omnibus adapter
branch run``) and identity (``omnibus identity run``) run, and the 50 counter agents (``python -m
adapters.branch.agent run``, the entry point of ``omnibus counter-agent``) start at the same moment. Expected: every journal drains, every event once on
``contact.events`` in its terminal's journal order, each one processed onto ``customer.contacts``,
nothing rejected, identity committed to the end.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.branch.agent.journal import Journal
from adapters.base.http import LISTENING_EVENT
from bus.topics import CONTACT_EVENTS, CUSTOMER_CONTACTS, IDENTIFIERS_OBSERVED
from tests.support.commit_stall import CommitStalls, uncommitted
from tests.faults.stack import Stack, stack, wait_http
from tests.support.fault_report import machine, record_fault
from tests.support.kafka_io import read_events

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

TERMINALS = 50
DAY_EVENTS = 24 * 30  # terminal 0: one transaction every 2 minutes for a day
MORNING_EVENTS = 20  # each other terminal
BRANCH = "0042"
TRANSACTION = "omnibus.contact.CounterTransaction"


def terminal_id(n: int) -> str:
    return f"CT-{BRANCH}-{n:02d}"


def transaction(terminal: int, n: int, at: datetime) -> dict:
    return {"kind": "transaction", "occurred_at": at.isoformat(), "agent_id": f"E-{terminal}",
            "transaction": {"id": f"TX-{terminal:02d}-{n:04d}", "type": "bill-payment", "status": "completed"},
            "identifiers": [{"type": "ACCOUNT", "value": f"ACC-{terminal:02d}-{n % 7}"}]}


def enqueue(running: Stack, terminal: int, events: list[dict]) -> None:
    journal = running.root / terminal_id(terminal) / "journal.sqlite3"
    journal.parent.mkdir(parents=True, exist_ok=True)
    result = running.omnibus(["counter-agent", "enqueue", "--journal", str(journal), "-"],
                             stdin="\n".join(json.dumps(event) for event in events) + "\n", timeout_s=120)
    assert result.returncode == 0, result.stdout[-2000:]


def agent_env(running: Stack, terminal: int, port: int) -> dict[str, str]:
    prefix = "OMNIBUS_ADAPTER_COUNTER_AGENT__"
    return {f"{prefix}{key}": value for key, value in {
        "JOURNAL_PATH": str(running.root / terminal_id(terminal) / "journal.sqlite3"),
        "ADAPTER_URL": f"http://127.0.0.1:{port}", "TERMINAL_ID": terminal_id(terminal), "BRANCH_ID": BRANCH,
        "TOKEN": f"tok-{terminal:02d}-5e2c9a", "BACKOFF_MAX_S": "5", "POLL_INTERVAL_S": "0.5"}.items()}


@pytest.mark.timeout(900)
async def test_a_day_offline_then_fifty_terminals_reconnecting_at_once_lose_nothing(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    with stack(tmp_path, bootstrap_servers=bootstrap_servers) as running:
        settings = running.settings()
        day = [transaction(0, n, now - timedelta(hours=24) + timedelta(minutes=2 * n)) for n in range(DAY_EVENTS)]
        enqueue(running, 0, day)  # the day offline through the command a terminal's software calls
        journals = {t: Journal(running.root / terminal_id(t) / "journal.sqlite3") for t in range(TERMINALS)}
        for terminal in range(1, TERMINALS):  # the others through the same journal's API (one process, not 49)
            journals[terminal].append_many([transaction(terminal, n, now - timedelta(hours=4) + timedelta(minutes=5 * n))
                                            for n in range(MORNING_EVENTS)])
        total = sum(journal.counts()["pending"] for journal in journals.values())
        assert total == DAY_EVENTS + (TERMINALS - 1) * MORNING_EVENTS
        identity = running.processor("identity")
        adapter = running.start("branch", ["adapter", "branch", "run", "--port", "0"], env={
            "OMNIBUS_ADAPTER_BRANCH__TERMINAL_TOKENS": json.dumps(
                {terminal_id(t): f"tok-{t:02d}-5e2c9a" for t in range(TERMINALS)}),
            "OMNIBUS_ADAPTER_BRANCH__DEDUPE_PATH": str(running.root / "branch-dedupe.sqlite")})
        port = adapter.bound(LISTENING_EVENT)  # port 0: the port it bound, from its log
        wait_http(adapter, f"http://127.0.0.1:{port}/openapi.json")
        groups = {running.group("identity"): {CONTACT_EVENTS.name(settings.topics),
                                              IDENTIFIERS_OBSERVED.name(settings.topics)}}
        stalls = CommitStalls(running.bootstrap_servers, groups)
        watching = asyncio.ensure_future(stalls.run())
        began = time.monotonic()
        # The agent's own entry point, as a terminal runs it (``omnibus counter-agent run`` without the other
        # components' imports: half the start-up CPU, which 50 processes on 2 cores feel).
        agents = [running.start(f"agent-{t}", ["run"], env=agent_env(running, t, port), module="adapters.branch.agent")
                  for t in range(TERMINALS)]
        deadline, pending = began + 400, total
        while time.monotonic() < deadline:
            pending = sum(journal.counts()["pending"] for journal in journals.values())
            if not pending:
                break
            await asyncio.sleep(1)
        drained_s = time.monotonic() - began
        for agent in agents:
            agent.stop()
        processed: set[str] = set()
        lag: dict = {}
        while time.monotonic() < deadline + 120:
            assert identity.alive(), identity.tail()
            processed = {e.event.value["transaction_id"].rsplit(":", 1)[-1]  # the terminal's own id, as ``ids``
                         for e in await read_events(settings, CUSTOMER_CONTACTS) if e.event.schema == TRANSACTION}
            lag = {group: await uncommitted(running.bootstrap_servers, group, topics) for group, topics in groups.items()}
            if len(processed) >= total and not any(lag.values()):
                break
            await asyncio.sleep(3)
        processed_s = time.monotonic() - began
        stalls.stop()
        await watching
        landed = sorted((e for e in await read_events(settings, CONTACT_EVENTS) if e.event.schema == TRANSACTION),
                        key=lambda e: (e.partition, e.offset))
        counts = {t: journal.counts() for t, journal in journals.items()}
        report = await running.verify()
        codes = [agent.popen.returncode for agent in agents]
    # the terminal's own transaction ids (the published id names its terminal first: adapters.base.issuers)
    ids = [e.event.value["transaction_id"].rsplit(":", 1)[-1] for e in landed]
    copies = Counter(ids)
    expected = {f"TX-{t:02d}-{n:04d}" for t in range(TERMINALS) for n in range(DAY_EVENTS if t == 0 else MORNING_EVENTS)}
    out_of_order = []
    for t in range(TERMINALS):  # one terminal's events share a key: one partition, journal order kept
        mine = [i for i in ids if i.startswith(f"TX-{t:02d}-")]
        if mine != sorted(set(mine), key=lambda i: int(i.rsplit("-", 1)[1])):
            out_of_order.append(terminal_id(t))
    rejected = sum(c["rejected"] for c in counts.values())
    record_fault("terminals-day-offline-50-reconnect", (
        "## A counter terminal offline for a day, then 50 terminals reconnecting at once\n\n"
        "`pytest tests/faults/test_terminals.py` — branch adapter, identity and 50 counter agents (`run`) "
        f"as processes, 2 partitions; {machine()}.\n\n"
        "| journaled | terminal 0 (a day) | uploaded (on contact.events) | copies | lost | rejected | "
        "out of order | processed by identity | `omnibus verify`: lost, copies, conflicting, stale rows | "
        "journals drained after | all processed after | max commit stall |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        f"| {total} | {DAY_EVENTS} | {len(set(ids) & expected)} | {len(ids) - len(set(ids))} | "
        f"{len(expected - set(ids))} | {rejected} | {len(out_of_order)} | {len(processed & expected)} | "
        f"{', '.join(str(report.figures.get(k, 0)) for k in ('lost', 'duplicates', 'conflicting', 'stale rows'))} | "
        f"{drained_s:.0f} s | {processed_s:.0f} s | {stalls.max_stall_s:.0f} s |\n"))
    assert pending == 0
    assert codes == [0] * TERMINALS, Counter(codes)
    assert rejected == 0
    assert set(ids) == expected, sorted(expected - set(ids))[:10]
    assert not [i for i, n in copies.items() if n > 1]
    assert not out_of_order, out_of_order
    assert processed >= expected, sorted(expected - processed)[:10]
    assert not any(lag.values()), lag
    assert stalls.max_stall_s < 60
    assert report.ok, "\n".join(report.lines())

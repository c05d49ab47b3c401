"""End to end: counter agents (real subprocesses) -> branch adapter -> a real broker, through the worst
an offline branch sees: an agent killed with SIGKILL after Kafka took its batch but before it heard the
2xx, the adapter restarted, and the broker stopped mid-stream and restarted with its data. Every event
must land exactly once, in journal order per terminal.

The session broker must never stop, so this test runs a broker of its own (``keep_data`` restarts it
on the same ports and data directory, as a production broker restarts).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from prometheus_client import REGISTRY

from adapters.base.http import serve
from adapters.base.runtime import adapter_runtime
from adapters.branch.agent.journal import Journal
from adapters.branch.config import BranchSettings
from adapters.branch.ingress import BranchIngress
from adapters.branch.mapper import CounterMapper
from bus.config import OmnibusSettings
from bus.stack.kafka import KafkaBroker
from bus.topics import CONTACT_EVENTS
from tests.support.kafka_io import read_events
from tests.support.ports import reserved_port
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(420)]

ROOT = Path(__file__).resolve().parents[4]
TERMINALS = {"QM-0007-1": "tok-machine-1f0a", "CT-0007-02": "tok-counter-88e2"}
BRANCH = "0007"


def event(terminal: str, n: int) -> dict[str, Any]:
    stamp = f"2024-05-02T{8 + n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}+02:00"
    if terminal.startswith("QM"):
        return {"kind": "ticket_issued", "occurred_at": stamp,
                "ticket": {"number": f"A{n:03d}", "service_type": "payments", "issued_at": stamp}}
    return {"kind": "transaction", "occurred_at": stamp, "agent_id": "E-1",
            "transaction": {"id": f"TX-{n:04d}", "type": "bill-payment", "status": "completed"}}


class Agents:
    """One ``counter-agent run`` subprocess per terminal, each with its own journal."""

    def __init__(self, tmp: Path, adapter_port: int) -> None:
        self.tmp = tmp
        self.adapter_port = adapter_port
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.journals = {terminal: Journal(tmp / terminal / "journal.sqlite3") for terminal in TERMINALS}
        self.enqueued = 0

    def start(self, terminal: str) -> None:
        prefix = "OMNIBUS_ADAPTER_COUNTER_AGENT__"
        env = {**os.environ, **{f"{prefix}{k}": v for k, v in {
            "JOURNAL_PATH": str(self.tmp / terminal / "journal.sqlite3"),
            "ADAPTER_URL": f"http://127.0.0.1:{self.adapter_port}", "TERMINAL_ID": terminal, "BRANCH_ID": BRANCH,
            "TOKEN": TERMINALS[terminal], "BATCH_MAX_EVENTS": "15", "BACKOFF_INITIAL_S": "0.2",
            "BACKOFF_MAX_S": "2", "POLL_INTERVAL_S": "0.05", "REQUEST_TIMEOUT_S": "20",
        }.items()}}
        log = open(self.tmp / f"{terminal}.log", "ab")  # noqa: SIM115 - the child owns it
        self.processes[terminal] = subprocess.Popen(
            [sys.executable, "-m", "adapters.branch.agent", "run"], cwd=ROOT, env=env, stdout=log, stderr=log,
        )

    def kill_9(self, terminal: str) -> None:
        process = self.processes.pop(terminal)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> list[int]:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(30) for process in self.processes.values()]
        self.processes.clear()
        return codes

    def enqueue(self, count: int) -> None:
        """The terminals' software records ``count`` more events each (the agent's local API)."""
        for terminal, journal in self.journals.items():
            journal.append_many([event(terminal, n) for n in range(self.enqueued, self.enqueued + count)])
        self.enqueued += count

    async def keep_enqueueing(self, done: asyncio.Event) -> None:
        """Counters keep working whatever happens to the network: one event each every 30 ms."""
        while not done.is_set():
            self.enqueue(1)
            await asyncio.sleep(0.03)

    def counts(self, terminal: str) -> dict[str, int]:
        return self.journals[terminal].counts()

    def pending(self) -> int:
        return sum(journal.counts()["pending"] for journal in self.journals.values())

    def journal_order(self, terminal: str) -> list[str]:
        return [row[0] for row in self.journals[terminal]._db.execute("SELECT event_id FROM journal ORDER BY seq")]


def hold_first_answer_to(token: str, held: asyncio.Event, seconds: float) -> Callable[..., Any]:
    """After the first 200 to this terminal (Kafka has its events), hold the answer: time to kill it."""
    holds = [1]

    @web.middleware
    async def middleware(request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        response = await handler(request)
        if response.status == 200 and holds[0] and request.headers.get("Authorization") == f"Bearer {token}":
            holds[0] = 0
            held.set()
            await asyncio.sleep(seconds)
        return response

    return middleware


@asynccontextmanager
async def branch_adapter(
    settings: OmnibusSettings, branch: BranchSettings, middleware: Callable[..., Any] | None = None
) -> AsyncIterator[int]:
    async with adapter_runtime("branch", settings, branch) as runtime:
        app = BranchIngress(branch, runtime.publisher, CounterMapper(branch, settings.topics)).app()
        if middleware is not None:
            app.middlewares.append(middleware)
        server = await serve(app, branch.host, branch.port)
        try:
            yield server.port
        finally:
            await server.stop()


async def until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.1)


async def test_kill_9_adapter_restart_and_broker_outage_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    # The broker stops and starts again on its ports, and the agents are told the adapter's port before the adapter
    # starts, twice, on it: the three ports are held for the whole test (reserved_port), so no other process can bind
    # one while its server is down.
    with reserved_port() as port, reserved_port() as controller, reserved_port() as adapter_port:
        await _kill_9_adapter_restart_and_broker_outage(tmp_path, KafkaBroker(
            tmp_path / "stack", port=port, controller_port=controller, keep_data=True), adapter_port)


async def _kill_9_adapter_restart_and_broker_outage(tmp_path: Path, broker: KafkaBroker, adapter_port: int) -> None:
    broker.start()  # from the main thread: the JVM is tied to it and dies with the test run
    try:
        branch = BranchSettings(
            terminal_tokens=TERMINALS, port=adapter_port, publish_timeout_s=3, retry_after_s=1,
            dedupe_path=tmp_path / "adapter-dedupe.sqlite3",
        )
        agents = Agents(tmp_path, branch.port)
        feeding_done = asyncio.Event()
        before = {name: _adapter_metric(name) for name in ("duplicates", "unavailable")}
        settings = await settings_with_topics(broker.bootstrap_servers, partitions=3)
        agents.enqueue(60)  # a morning offline: queued before the agents ever ran
        held = asyncio.Event()
        async with branch_adapter(settings, branch, hold_first_answer_to(TERMINALS["CT-0007-02"], held, 4.0)):
            for terminal in TERMINALS:
                agents.start(terminal)
            feeder = asyncio.create_task(agents.keep_enqueueing(feeding_done))
            await asyncio.wait_for(held.wait(), 60)
            agents.kill_9("CT-0007-02")  # its first batch is on Kafka, but it never heard the 200
            assert agents.counts("CT-0007-02")["sent"] == 0
        # The adapter stopped (in-flight uploads drained, Kafka flushed) and starts afresh: only its
        # SQLite dedupe store remembers what it published.
        async with branch_adapter(settings, branch):
            agents.start("CT-0007-02")
            await until(lambda: agents.counts("CT-0007-02")["sent"] >= 60, 60, "the restarted agent to catch up")
            broker.stop()  # mid-stream: uploads in flight, agents now get 503s and back off
            await asyncio.sleep(6)
            assert all(agents.counts(t)["pending"] > 0 for t in TERMINALS)
            broker.start()  # same ports, same data: topics and the producer's state survive
            await asyncio.sleep(3)
            feeding_done.set()
            await feeder
            await until(lambda: agents.pending() == 0, 180, "every journal to drain")
            assert agents.stop_all() == [0, 0]  # SIGTERM: a clean exit
        # The scenario really happened: re-uploads were deduped, and the outage answered 503.
        assert _adapter_metric("duplicates") - before["duplicates"] >= 1
        assert _adapter_metric("unavailable") - before["unavailable"] >= 1

        landed = sorted(await read_events(settings, CONTACT_EVENTS), key=lambda l: (l.partition, l.offset))
        for terminal in TERMINALS:
            enqueued = agents.journal_order(terminal)
            assert len(enqueued) == agents.enqueued > 100
            mine = set(enqueued)
            schema = "QueueTicketChanged" if terminal.startswith("QM") else "CounterTransaction"
            on_kafka = [l.event.value["envelope"]["source_event_id"] for l in landed
                        if l.event.schema.endswith(schema) and l.event.value["envelope"]["source_event_id"] in mine]
            assert len(on_kafka) == len(set(on_kafka)), f"{terminal}: duplicates on Kafka"
            assert on_kafka == enqueued, f"{terminal}: missing or out of order"
            assert agents.counts(terminal) == {"pending": 0, "sent": len(enqueued), "rejected": 0}
    finally:
        feeding_done.set()
        for process in agents.processes.values():
            process.kill()
        for journal in agents.journals.values():
            journal.close()
        broker.stop()


def _adapter_metric(name: str) -> float:
    return REGISTRY.get_sample_value(f"omnibus_adapter_{name}_total", {"adapter": "branch"}) or 0.0

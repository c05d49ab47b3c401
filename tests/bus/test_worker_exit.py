"""A worker that cannot go on ends its process with one line and a status, not a crash loop (new-user sample:
``kpis run`` on topics whose changelog has another partition count)."""

from __future__ import annotations

import ast
import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from faust.exceptions import PartitionsMismatch

from bus.errors import MissingTopicError
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topic_admin import apply_topics
from bus.topics import CONTACT_EVENTS
from bus.worker_exit import WORKER_MISCONFIGURED_EXIT, FatalWatch
from processors.kpis.agent import changelogs
from tests.processors.kpis.factories import interaction
from tests.support.settings import settings_with_topics

REPO = Path(__file__).resolve().parents[2]
PROCESSOR_CLIS = ("identity", "handoffs", "offers", "kpis")


def test_every_processor_run_command_goes_through_run_worker() -> None:
    """identity, handoffs, offers, kpis (and the profile, kept by identity) share the one exit path."""
    for name in PROCESSOR_CLIS:
        tree = ast.parse((REPO / "processors" / name / "cli.py").read_text())
        called = {node.func.id for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        assert "run_worker" in called, name


async def test_only_the_first_fatal_error_is_kept_and_others_are_left_to_faust(monkeypatch: pytest.MonkeyPatch) -> None:
    signals: list[int] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: signals.append(sig))
    watch = FatalWatch()
    await watch.on_agent_error(None, RuntimeError("a transient error: faust restarts the agent"))
    assert watch.error is None and signals == []
    first = PartitionsMismatch("source 2, changelog 3")
    await watch.on_agent_error(None, first)
    await watch.on_agent_error(None, PartitionsMismatch("again"))
    assert watch.error is first and len(signals) == 1


async def test_tester24_f8_a_topic_gone_while_a_worker_runs_stops_it_as_misconfigured(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A publish whose topic the broker no longer lists raises ``MissingTopicError`` (``bus.producer``); escaping an
    agent, it stops the worker with ``WORKER_MISCONFIGURED_EXIT`` instead of faust restarting the agent forever."""
    signals: list[int] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: signals.append(sig))
    watch = FatalWatch()
    gone = MissingTopicError(["staging.customer.contacts.v1"])
    await watch.on_agent_error(None, gone)
    assert watch.error is gone and len(signals) == 1


@pytest.mark.kafka
@pytest.mark.timeout(180)
async def test_kpis_run_on_a_changelog_with_another_partition_count_exits_78(
        bootstrap_servers: str, tmp_path: Path) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=2)
    other = config.model_copy(update={"topics": config.topics.model_copy(update={"partitions": 3})})
    await apply_topics(other, changelogs(other))  # left by an earlier deployment with 3 partitions
    env = {**os.environ, "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers,
           "OMNIBUS_TOPICS__PREFIX": config.topics.prefix, "OMNIBUS_TOPICS__PARTITIONS": "2",
           "OMNIBUS_METRICS__PORT": "0", "OMNIBUS_PROCESSOR_KPIS__WEB_PORT": "0"}  # ports the worker binds itself
    process = subprocess.Popen([sys.executable, "-m", "omnibus", "kpis", "run"], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        serializer, _ = build_serde(config.registry)
        async with EventProducer(config, serializer) as producer:
            await producer.publish(Outgoing(CONTACT_EVENTS.name(config.topics), "c-1",
                                            interaction(datetime.now(UTC), site="paris", outcome="RESOLVED")))
        started = time.monotonic()
        stdout, stderr = await asyncio.to_thread(process.communicate, timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    lines = stderr.decode(errors="replace").strip().splitlines()
    assert process.returncode == WORKER_MISCONFIGURED_EXIT, lines[-5:]
    assert lines[-1].startswith("error: PartitionsMismatch:") and "Traceback" not in lines[-1], lines[-5:]
    assert time.monotonic() - started < 90

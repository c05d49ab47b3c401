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


@pytest.mark.parametrize(("consumer", "said", "uncommitted"), [
    ({"read": 9, "committed": 10}, "worker stopped: every record read was processed and committed", 0),
    ({"read": 12, "committed": 10}, "worker stopped: records read but not committed are read again at the next start",
     3),
    (None, "worker stopped", None),  # a consumer that cannot tell (never started): the line all the same
])
def test_a_processor_stopped_cleanly_says_so_in_a_line_of_its_own(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], consumer: dict[str, int] | None,
        said: str, uncommitted: int | None) -> None:
    """New-user sample: kpis, handoffs and offers stopped by SIGTERM ended with status 0 and only faust's
    ``Stopping...`` lines, where an adapter ends with ``... stopped: everything accepted was flushed to Kafka``. A
    worker's clean stop (status 0) is one info line, with what it read and did not commit."""
    import json
    import logging
    from types import SimpleNamespace

    import structlog
    from aiokafka import TopicPartition

    from bus import early_stop, worker_exit
    from bus.logging import LIBRARY_LOGGERS, configure_logging

    monkeypatch.setattr(early_stop, "PROCESS", early_stop.StopState())
    tp, changelog = TopicPartition("o.contact.events.v1", 0), TopicPartition("o-kpis-changelog", 0)
    app = SimpleNamespace(agents={})
    if consumer is not None:  # a changelog's offsets are never committed: not counted
        app.consumer = SimpleNamespace(_read_offset={tp: consumer["read"], changelog: 40},
                                       _committed_offset={tp: consumer["committed"]})
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO")
    try:
        with pytest.raises(SystemExit) as ended, worker_exit.fatal_errors_exit(app, SimpleNamespace()):  # type: ignore[arg-type]
            raise SystemExit(0)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)
        structlog.reset_defaults()
    assert ended.value.code == 0
    (line,) = [json.loads(text) for text in capsys.readouterr().err.splitlines() if text.startswith("{")]
    assert line["event"] == said and line["level"] == "info" and line.get("uncommitted_records") == uncommitted


def test_a_worker_that_did_not_stop_cleanly_has_no_stopped_line(monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A crash's status is not a clean stop: its one ``error:`` line stays the last, with no ``worker stopped``."""
    from types import SimpleNamespace

    from bus import early_stop, worker_exit

    monkeypatch.setattr(early_stop, "PROCESS", early_stop.StopState())
    worker = SimpleNamespace(crash_reason=RuntimeError("boom"))
    with pytest.raises(SystemExit) as ended, worker_exit.fatal_errors_exit(SimpleNamespace(agents={}), worker):  # type: ignore[arg-type]
        raise SystemExit(1)
    assert ended.value.code == worker_exit.WORKER_CRASHED_EXIT
    assert worker_exit.STOPPED not in capsys.readouterr().err


def test_a_clean_stops_line_is_the_last_one_after_faust_s_held_back_repeats(capsys: pytest.CaptureFixture[str]) -> None:
    """A user: kpis's ``worker stopped: ...`` was followed by faust's ``[^---Fetcher]: Stopping...`` lines
    (``repeated``: the repeats held back, written at exit). They are written before it: ``tail -1`` of the log is the
    stop's line."""
    import json
    import logging
    from types import SimpleNamespace

    from bus import worker_exit
    from bus.logging import configure_logging

    configure_logging("INFO", json_output=True)
    for _ in range(4):
        logging.getLogger("faust.transport.consumer").info("[^---Fetcher]: Stopping...")
    worker_exit.say_stopped(SimpleNamespace(consumer=None))
    logging.shutdown()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert any(line.get("repeated") for line in lines), lines  # the repeats were held back, as at a real stop
    assert lines[-1]["event"] == worker_exit.STOPPED, lines

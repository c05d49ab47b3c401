"""tester15 F13: ``import-batch`` with the broker gone mid-import ended after 10 s in a Rich traceback
(``Unavailable: Kafka did not acknowledge within 10 s``), exit 1, no summary, and a warning about answering 503.

A broker of its own, paused with SIGSTOP (a short, deterministic outage: the JVM keeps its sockets and data) while
the import publishes: a pause longer than the adapter's publish timeout but shorter than
``OMNIBUS_PRODUCER__GIVE_UP_AFTER_S`` is waited through (exit 0, every line once); a longer one ends in one
``error:`` line, exit 69 and the summary of what was published, and the same command resumes once the broker is back.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bus.bootstrap import KAFKA_UNAVAILABLE_EXIT
from bus.stack.kafka import KafkaBroker
from bus.topics import BUSINESS_EVENTS
from tests.support.kafka_io import read_events
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

LINES = 20_000
CHECKPOINTS = "targets/*/batch/*.json"  # the files' checkpoints, in the folder of the cluster and prefix (F6)
LAYOUT = {"name": "products-outage", "format": "csv", "event": "ProductSubscribed", "delimiter": ";",
          "key": ["subscription_id"], "fields": {
              "account_number": {"column": "ACCOUNT"}, "subscription_id": {"column": "CONTRACT"},
              "product_code": {"column": "OFFER"}}}


def _export(path: Path, tag: str) -> Path:
    rows = [f"CA-{tag}{n};{tag}-{n};GAS-STD" for n in range(LINES)]
    path.write_text("ACCOUNT;CONTRACT;OFFER\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _start(env: dict[str, str], layout: Path, export: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from omnibus.cli import app; app()", "adapter", "legacy", "import-batch",
         "--layout", str(layout), str(export)],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _pause_once_publishing(broker: KafkaBroker, state: Path, proc: subprocess.Popen[str]) -> None:
    """SIGSTOP the broker as soon as the import checkpointed its first chunk (Kafka acknowledged it)."""
    deadline = time.monotonic() + 180
    while not any(state.glob(CHECKPOINTS)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the import published nothing within 180 s"
        time.sleep(0.05)
    assert broker.pid is not None
    os.kill(broker.pid, signal.SIGSTOP)


@pytest.mark.timeout(900)
def test_import_batch_waits_through_a_broker_pause_and_gives_up_with_a_summary_and_exit_69(tmp_path: Path) -> None:
    broker = KafkaBroker(tmp_path / "broker").start()
    try:
        settings = asyncio.run(settings_with_topics(broker.bootstrap_servers))
        layout = tmp_path / "layout.json"
        layout.write_text(json.dumps(LAYOUT))
        env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": broker.bootstrap_servers,
               "OMNIBUS_TOPICS__PREFIX": settings.topics.prefix, "OMNIBUS_TOPICS__PARTITIONS": "3",
               "OMNIBUS_METRICS__ENABLED": "false", "OMNIBUS_LOG__JSON_OUTPUT": "false",
               "OMNIBUS_ADAPTER_LEGACY__STATE_DIR": str(tmp_path / "state"),
               "OMNIBUS_ADAPTER_LEGACY__BATCH_CHUNK_LINES": "200",
               "OMNIBUS_ADAPTER_LEGACY__PUBLISH_TIMEOUT_S": "2",  # an HTTP sender's wait: not the import's
               "OMNIBUS_PRODUCER__DELIVERY_TIMEOUT_MS": "5000", "OMNIBUS_STOP__DEADLINE_S": "10"}

        # A pause of 8 s: longer than the publish timeout, shorter than GIVE_UP_AFTER_S (600 s): waited through.
        first = _export(tmp_path / "first.csv", "A")
        proc = _start(env, layout, first)
        _pause_once_publishing(broker, tmp_path / "state", proc)
        time.sleep(8)
        os.kill(broker.pid, signal.SIGCONT)  # type: ignore[arg-type]
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, out + err
        assert f"first.csv: {LINES} lines, {LINES} events published, 0 duplicates, 0 rejected" in out, out + err
        assert "Traceback" not in err and "answering 503" not in err, err

        # A pause longer than GIVE_UP_AFTER_S (4 s here): one error line, what was published, exit 69.
        second = _export(tmp_path / "second.csv", "B")
        proc = _start({**env, "OMNIBUS_PRODUCER__GIVE_UP_AFTER_S": "4"}, layout, second)
        deadline = time.monotonic() + 180
        while len(list((tmp_path / "state").glob(CHECKPOINTS))) < 2:  # the first file's, and this one's
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(broker.pid, signal.SIGSTOP)  # type: ignore[arg-type]
        try:
            out, err = proc.communicate(timeout=180)
        finally:
            os.kill(broker.pid, signal.SIGCONT)  # type: ignore[arg-type]
        assert proc.returncode == KAFKA_UNAVAILABLE_EXIT, out + err
        assert "Traceback" not in err and "╭" not in err and "answering 503" not in err, err
        # the first error line says why; a second one, if the flush to the paused broker outlived the stop deadline
        error = next(line for line in err.splitlines() if line.startswith("error: "))
        assert "Kafka did not acknowledge" in error and "run the same command again" in error, error
        (summary,) = [line for line in out.splitlines() if line.startswith("second.csv: ")]
        assert summary.endswith("(interrupted)") and " 0 rejected" in summary, summary
        published = int(summary.split(" lines, ")[1].split(" events")[0])
        assert 0 < published < LINES, summary

        again = _start(env, layout, second)  # the broker is back: the same command resumes
        out, err = again.communicate(timeout=300)
        assert again.returncode == 0, out + err
        assert "second.csv: " in out and " 0 rejected" in out, out

        # Every line on the topic; a chunk in flight when the import gave up may be there twice (the broker appends
        # what it had read before the pause), always with the same event id: a reader drops the copy.
        landed = asyncio.run(read_events(settings, BUSINESS_EVENTS))
        event_ids: dict[str, set[str]] = {}
        for event in landed:
            event_ids.setdefault(event.event.value["subscription_id"], set()).add(
                event.event.value["envelope"]["event_id"])
        assert len(event_ids) == 2 * LINES, len(event_ids)
        assert all(len(ids) == 1 for ids in event_ids.values())
        first_copies = Counter(event.event.value["subscription_id"] for event in landed
                               if event.event.value["subscription_id"].startswith("A-"))
        assert set(first_copies.values()) == {1}  # the pause waited through published each line once
    finally:
        if broker.pid is not None:
            os.kill(broker.pid, signal.SIGCONT)
        broker.stop()

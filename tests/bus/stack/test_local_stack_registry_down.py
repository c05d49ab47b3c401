"""Commands run against ``omnibus stack`` while the stack's registry is down, as a user runs them: each its own
process, no broker or registry address given (``bus.stack.local.local_endpoints``).

Reported: an import started during the outage ran registry-free and exited 0; its records (the single-object
encoding, ``C3 01``) were dead-lettered by every processor, and a re-import said "already imported". And
``omnibus handoffs acknowledge`` during the outage blamed ``OMNIBUS_REGISTRY__URL is unset``. Now an import waits
for the stack's registry as for a broker outage: it publishes in the registry's framing once ``omnibus stack up``
brought it back, or gives up after ``OMNIBUS_PRODUCER__GIVE_UP_AFTER_S`` with exit 69, publishing nothing; a
command that reads the topics says the registry does not answer and how to bring it back."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from bus.bootstrap import KAFKA_UNAVAILABLE_EXIT
from bus.stack import process

pytestmark = [pytest.mark.kafka, pytest.mark.registry, pytest.mark.slow]  # one broker, two registry starts: 1-3 min

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "docs" / "examples" / "layouts"
PREFIX = "outage"
CASES_LAYOUT = """name: cases
format: csv
event: HandoffCreated
delimiter: ";"
key: [ticket]
fields:
  ticket: {column: TICKET}
  case_type: {column: KIND}
  summary: {column: SUMMARY}
"""


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A user's shell on the stack in ``tmp_path/state``: no broker or registry address (the stack's are taken)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "OMNIBUS_REGISTRY__URL")}
    return env | {
        "OMNIBUS_STACK_DIR": str(tmp_path / "state"), "OMNIBUS_TOPICS__PREFIX": PREFIX,
        "OMNIBUS_TOPICS__PARTITIONS": "1", "OMNIBUS_ADAPTER_LEGACY__STATE_DIR": str(tmp_path / "legacy"),
        "OMNIBUS_IDENTIFIERS__DEFAULT_REGION": "ES", "OMNIBUS_LOG__LEVEL": "WARNING", "OMNIBUS_METRICS__PORT": "0",
    } | extra


def _omnibus(tmp_path: Path, *args: str, timeout_s: float = 300.0, **extra: str) -> subprocess.CompletedProcess[str]:
    """``omnibus <args>`` to its end (this checkout's code: run from its root); stdout and stderr in ``.stdout``."""
    return subprocess.run([sys.executable, "-m", "omnibus", *args], env=_environment(tmp_path, **extra), cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout_s, check=False)


def _state(tmp_path: Path) -> dict:
    return dict(json.loads((tmp_path / "state" / "stack.json").read_text()))


def _stop_registry(tmp_path: Path) -> None:
    """SIGTERM to the stack's registry (ours: its pid and marker from ``stack.json``), until it is gone."""
    registry = _state(tmp_path)["registry"]
    pid, marker = int(registry["pid"]), str(registry["marker"])
    assert process.owns(pid, marker)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while process.owns(pid, marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not process.owns(pid, marker), "the registry did not stop within 60 s"


def _first_bytes(bootstrap_servers: str, topic: str) -> list[bytes]:
    """The first byte of every record value on ``topic`` (its one partition), read raw: its framing (0: the
    Confluent wire format; 0xC3: the single-object encoding of registry-free mode)."""
    async def read() -> list[bytes]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
        await consumer.start()
        try:
            tp = TopicPartition(topic, 0)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            end = (await consumer.end_offsets([tp]))[tp]
            values: list[bytes] = []
            while len(values) < end:
                batch = await consumer.getmany(tp, timeout_ms=10_000)
                assert batch, f"{topic} did not deliver its {end} records"
                values.extend(message.value[:1] for message in batch[tp] if message.value is not None)
            return values
        finally:
            await consumer.stop()

    return asyncio.run(read())


@pytest.mark.timeout(900)
def test_commands_during_the_stacks_registry_outage_wait_for_it_or_say_it_does_not_answer(
    tmp_path: Path, stack_ports: list[str]
) -> None:
    (tmp_path / "cases.yaml").write_text(CASES_LAYOUT)
    (tmp_path / "cases.csv").write_text("TICKET;KIND;SUMMARY\nT-1;meter-dispute;Estimated reading\n")
    overdue = ("--layout", str(EXAMPLES / "overdue_layout.yaml"), str(EXAMPLES / "overdue.txt"))
    try:
        up = _omnibus(tmp_path, "stack", "up", *stack_ports, timeout_s=600)
        assert up.returncode == 0, up.stdout
        if _state(tmp_path)["registry"] is None:
            pytest.skip("this machine cannot run the registry")
        bootstrap_servers = _state(tmp_path)["kafka"]["bootstrap_servers"]
        applied = _omnibus(tmp_path, "topics", "apply")
        assert applied.returncode == 0, applied.stdout
        opened = _omnibus(tmp_path, "adapter", "legacy", "import-batch", "--layout", str(tmp_path / "cases.yaml"),
                          str(tmp_path / "cases.csv"))
        assert opened.returncode == 0 and "1 event published" in opened.stdout, opened.stdout
        read = _omnibus(tmp_path, "topics", "read", "handoff.events.v1", "--last", "1")
        assert read.returncode == 0, read.stdout
        handoff_id = json.loads(read.stdout.splitlines()[-1])["key"]

        _stop_registry(tmp_path)
        for command in (["show", handoff_id], ["acknowledge", handoff_id, "--by", "Marta"]):
            answer = _omnibus(tmp_path, "handoffs", *command)
            assert answer.returncode == KAFKA_UNAVAILABLE_EXIT, (command, answer.stdout)
            assert "does not answer" in answer.stdout and "omnibus stack up" in answer.stdout, answer.stdout
            assert "OMNIBUS_REGISTRY__URL is unset: registry-free" not in answer.stdout, answer.stdout
            assert "no handoff" not in answer.stdout, answer.stdout

        gave_up = _omnibus(tmp_path, "adapter", "legacy", "import-batch", *overdue,
                           OMNIBUS_PRODUCER__GIVE_UP_AFTER_S="10")
        assert gave_up.returncode == KAFKA_UNAVAILABLE_EXIT, gave_up.stdout
        assert "overdue.txt: 0 lines, 0 events published" in gave_up.stdout, gave_up.stdout
        assert "error: schema registry unavailable" in gave_up.stdout, gave_up.stdout
        assert "omnibus stack up" in gave_up.stdout, gave_up.stdout
        assert _first_bytes(bootstrap_servers, f"{PREFIX}.business.events.v1") == []  # nothing registry-free

        log = tmp_path / "import.log"
        with open(log, "w") as out:
            waiting = subprocess.Popen(
                [sys.executable, "-m", "omnibus", "adapter", "legacy", "import-batch", *overdue],
                env=_environment(tmp_path, OMNIBUS_PRODUCER__GIVE_UP_AFTER_S="600"), cwd=REPO,
                stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while "the import waits and tries again" not in log.read_text() and time.monotonic() < deadline:
                assert waiting.poll() is None, log.read_text()
                time.sleep(0.2)
            assert waiting.poll() is None, log.read_text()
            back = _omnibus(tmp_path, "stack", "up", *stack_ports, timeout_s=600)
            assert back.returncode == 0 and "restarted the schema registry" in back.stdout, back.stdout
            assert waiting.wait(300) == 0, log.read_text()
        finally:
            if waiting.poll() is None:
                waiting.kill()
                waiting.wait(30)
        assert "overdue.txt: 2 lines, 2 events published" in log.read_text(), log.read_text()
        assert _first_bytes(bootstrap_servers, f"{PREFIX}.business.events.v1") == [b"\x00"] * 2  # Confluent framing

        shown = _omnibus(tmp_path, "handoffs", "show", handoff_id)  # the case was there all along
        assert shown.returncode == 0 and "summary: Estimated reading" in shown.stdout, shown.stdout
    finally:
        down = _omnibus(tmp_path, "stack", "down", timeout_s=180)
    assert down.returncode == 0, down.stdout

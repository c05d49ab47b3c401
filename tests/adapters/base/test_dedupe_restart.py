"""A single-process web adapter killed and restarted on its port recognises its senders' redeliveries
(tester11 #1: the dedupe store was in memory unless ``--workers`` was above 1, so after a restart 211 of a
retrying client's messages were published twice and ``omnibus_adapter_duplicates_total`` stayed 0)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from bus.topics import CONTACT_EVENTS
from tests.adapters.web.support import message_id_of
from tests.support.kafka_io import read_events
from tests.support.ports import reserved_port
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka

WRITE_KEY = "wk-restart"
BATCHES, PER_BATCH = 20, 5


def _metric(metrics_port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
        found = re.search(rf'^{name}\{{adapter="web"\}} (\S+)$', response.read().decode(), re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


def _start(environment: dict[str, str], port: int, metrics_port: int) -> subprocess.Popen[bytes]:
    """``adapter web run --port <port>``, one process, answering on its port and its metrics port."""
    server = subprocess.Popen(
        [sys.executable, "-c", "from adapters.web.cli import app; app()", "run", "--port", str(port)],
        env={**environment, "OMNIBUS_METRICS__PORT": str(metrics_port)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90  # imports and the Kafka connection on a loaded machine
    urls = [f"http://127.0.0.1:{port}/healthz", f"http://127.0.0.1:{metrics_port}/metrics"]
    while not all(_answers(url) for url in urls):
        if server.poll() is not None or time.monotonic() >= deadline:
            server.kill()
            raise AssertionError(f"the adapter did not start:\n{server.communicate(timeout=30)[0].decode()}")
        time.sleep(0.2)
    return server


async def _post_all(port: int, bodies: list[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for body in bodies:
            async with session.post(f"http://127.0.0.1:{port}/v1/batch", data=body,
                                    headers={"Content-Type": "application/json"}) as response:
                assert response.status == 200, await response.text()


@pytest.mark.kafka
def test_a_restarted_adapter_counts_redeliveries_as_duplicates_and_publishes_nothing_twice(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    settings = asyncio.run(settings_with_topics(bootstrap_servers))
    environment = {
        **os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3]), "XDG_STATE_HOME": str(tmp_path),
        "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": settings.topics.prefix,
        "OMNIBUS_TOPICS__PARTITIONS": "3", "OMNIBUS_LOG__JSON_OUTPUT": "false", "OMNIBUS_METRICS__ENABLED": "true",
        "OMNIBUS_ADAPTER_WEB__WRITE_KEYS": json.dumps({"portal": WRITE_KEY}),
    }  # no OMNIBUS_ADAPTER_WEB__DEDUPE_PATH: the default file
    environment.pop("OMNIBUS_ADAPTER_WEB__DEDUPE_PATH", None)
    environment.pop("OMNIBUS_ADAPTER_WEB__DEDUPE_IN_MEMORY", None)
    bodies = [json.dumps({"writeKey": WRITE_KEY, "batch": [
        {"type": "track", "event": "Invoice Downloaded", "userId": f"u-{b % 7}", "messageId": f"m-{b}-{i}"}
        for i in range(PER_BATCH)]}).encode() for b in range(BATCHES)]
    with reserved_port() as port, reserved_port() as metrics_port:  # held across the kill and the restart on them
        _kill_and_restart(environment, port, metrics_port, bodies, tmp_path)
    landed = asyncio.run(read_events(settings, CONTACT_EVENTS))
    copies = Counter(message_id_of(item.event.value["interaction_id"]) for item in landed)
    assert set(copies) == {f"m-{b}-{i}" for b in range(BATCHES) for i in range(PER_BATCH)}
    assert set(copies.values()) == {1}, Counter(copies.values())


def _kill_and_restart(environment: dict[str, str], port: int, metrics_port: int, bodies: list[bytes],
                      tmp_path: Path) -> None:
    first = _start(environment, port, metrics_port)
    try:
        asyncio.run(_post_all(port, bodies))
    finally:
        first.send_signal(signal.SIGKILL)  # as the tester did: no drain, no goodbye
        first.communicate(timeout=60)
    assert len(list((tmp_path / "omnibus" / "web").glob(f"targets/*/dedupe-{port}.sqlite"))) == 1  # its cluster's

    second = _start(environment, port, metrics_port)
    try:
        asyncio.run(_post_all(port, bodies))  # the retrying client sends everything again
        duplicates = _metric(metrics_port, "omnibus_adapter_duplicates_total")
        published = _metric(metrics_port, "omnibus_adapter_events_published_total")
    finally:
        second.send_signal(signal.SIGTERM)
        output = second.communicate(timeout=60)[0].decode()
    assert second.returncode == 0, output
    assert (duplicates, published) == (BATCHES * PER_BATCH, 0)

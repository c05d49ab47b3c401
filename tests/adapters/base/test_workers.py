"""``adapter web run --workers 2``: two processes on one port, each with its own producer, one shared
dedupe file; every acknowledged event lands on Kafka exactly once, redeliveries included."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from adapters.base.workers import metrics_ports, refusal, worker_settings
from bus.config import load_settings
from bus.stack.ports import free_port
from bus.topics import CONTACT_EVENTS
from tests.adapters.web.support import message_id_of
from tests.support.kafka_io import read_events
from tests.support.settings import settings_with_topics

WRITE_KEY = "wk-workers"
BATCHES, PER_BATCH, RESENT = 40, 5, 10
PUBLISHED = re.compile(r'^omnibus_adapter_events_published_total\{adapter="web"\} (\S+)$', re.MULTILINE)


def test_several_workers_need_a_fixed_port_and_a_shared_dedupe_file(tmp_path: Path) -> None:
    assert refusal(1, 0, None) is None
    assert "fixed port" in (refusal(2, 0, tmp_path / "d.sqlite") or "")
    assert "dedupe" in (refusal(2, 8080, None) or "")
    assert refusal(2, 8080, tmp_path / "d.sqlite") is None


def test_each_worker_serves_metrics_on_its_own_port() -> None:
    settings = load_settings(metrics={"enabled": True, "port": 9500})
    assert [worker_settings(settings, index).metrics.port for index in range(3)] == [9500, 9501, 9502]
    assert metrics_ports(settings, 3) == [9500, 9501, 9502]  # what the start line names
    assert metrics_ports(load_settings(metrics={"enabled": False}), 2) is None


def _free_pair() -> int:
    """A port whose next port is free too (the second worker's metrics)."""
    while True:
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue


def _message(batch: int, index: int) -> dict[str, object]:
    return {"type": "track", "event": "Invoice Downloaded", "userId": f"u-{batch % 7}",
            "messageId": f"m-{batch}-{index}", "properties": {"n": index}}


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def _post_all(port: int, bodies: list[bytes]) -> None:
    # a new connection per request: SO_REUSEPORT spreads connections (not requests) over the workers
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        async def post(body: bytes) -> None:
            async with session.post(f"http://127.0.0.1:{port}/v1/batch", data=body,
                                    headers={"Content-Type": "application/json"}) as response:
                assert response.status == 200, await response.text()
                assert (await response.json())["success"] is True

        queue = list(bodies)

        async def sender() -> None:
            while queue:
                await post(queue.pop())

        await asyncio.gather(*(sender() for _ in range(8)))


def _start_two_workers(environment: dict[str, str]) -> tuple[subprocess.Popen[bytes], int, int]:
    """``adapter web run --workers 2`` answering on its port and both metrics ports: (process, port, first
    metrics port). Ports are picked free, then bound by the workers a moment later; on a machine shared with
    other test runs one may be taken in between: then the start is tried again on new ports (three times)."""
    for _ in range(3):
        metrics_port = _free_pair()
        while (port := free_port()) in (metrics_port, metrics_port + 1):  # drawn apart, they could coincide
            pass
        server = subprocess.Popen(
            [sys.executable, "-c", "from adapters.web.cli import app; app()", "run", "--port", str(port),
             "--workers", "2"],
            env={**environment, "OMNIBUS_METRICS__PORT": str(metrics_port)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90  # two workers' imports and Kafka connections on a loaded machine
        urls = [f"http://127.0.0.1:{port}/healthz", *(f"http://127.0.0.1:{metrics_port + i}/metrics" for i in range(2))]
        while not all(_answers(url) for url in urls):
            if server.poll() is not None or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        else:
            return server, port, metrics_port
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0].decode()
        if "address already in use" not in output.lower():
            raise AssertionError(f"the workers did not start:\n{output}")
    raise AssertionError("the workers found a port taken in three starts")


@pytest.mark.kafka
def test_two_workers_publish_every_acknowledged_event_exactly_once(bootstrap_servers: str, tmp_path: Path) -> None:
    settings = asyncio.run(settings_with_topics(bootstrap_servers))
    environment = {
        **os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
        "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": settings.topics.prefix,
        "OMNIBUS_TOPICS__PARTITIONS": "3", "OMNIBUS_LOG__JSON_OUTPUT": "false", "OMNIBUS_METRICS__ENABLED": "true",
        "OMNIBUS_ADAPTER_WEB__WRITE_KEYS": json.dumps({"portal": WRITE_KEY}),
        "OMNIBUS_ADAPTER_WEB__DEDUPE_PATH": str(tmp_path / "dedupe.sqlite"),
    }
    server, port, metrics_port = _start_two_workers(environment)
    bodies = [json.dumps({"writeKey": WRITE_KEY, "batch": [_message(b, i) for i in range(PER_BATCH)]}).encode()
              for b in range(BATCHES)]
    try:
        assert len(_children(server.pid)) == 2
        asyncio.run(_post_all(port, bodies))
        asyncio.run(_post_all(port, bodies[:RESENT]))  # redeliveries, to whichever worker: deduped
        per_worker = [_published(metrics_port + index) for index in range(2)]
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0].decode()
    assert server.returncode == 0, output
    assert output.count("web hall stopped") == 2, output
    assert all(count > 0 for count in per_worker) and sum(per_worker) == BATCHES * PER_BATCH, per_worker

    landed = asyncio.run(read_events(settings, CONTACT_EVENTS))
    copies = Counter(message_id_of(item.event.value["interaction_id"]) for item in landed)
    expected = {f"m-{b}-{i}" for b in range(BATCHES) for i in range(PER_BATCH)}
    assert set(copies) == expected and set(copies.values()) == {1}


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


def _published(metrics_port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
        found = PUBLISHED.search(response.read().decode())
    return float(found.group(1)) if found else 0.0



def test_several_workers_without_a_dedupe_path_share_one_under_the_state_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tester9 #4: ``--workers 2`` refused to start until OMNIBUS_ADAPTER_WEB__DEDUPE_PATH was set, which the README
    did not say; with none set the workers share a file under the state home, one per port (the file a single
    process uses too: tester11 #1, ``adapters.base.config.dedupe_file``)."""
    from adapters.base.config import AdapterSettings, dedupe_file

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    shared = dedupe_file("web", AdapterSettings(port=8080))
    assert shared == tmp_path / "omnibus" / "web" / "dedupe-8080.sqlite" and refusal(2, 8080, shared) is None
    assert dedupe_file("web", AdapterSettings(port=8081)) != shared
    mine = tmp_path / "mine.sqlite"
    assert dedupe_file("web", AdapterSettings(port=8080, dedupe_path=mine)) == mine
    in_memory = dedupe_file("web", AdapterSettings(port=8080, dedupe_in_memory=True))
    assert in_memory is None and "dedupe" in (refusal(2, 8080, in_memory) or "")  # the opt-out: one process only
    monkeypatch.delenv("XDG_STATE_HOME")
    assert dedupe_file("web", AdapterSettings(port=8080)) == Path.home() / ".local/state/omnibus/web/dedupe-8080.sqlite"

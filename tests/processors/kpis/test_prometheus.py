"""A real Prometheus server (Debian's ``prometheus``) scrapes a running KPI processor and answers a KPI query.

The processor counts two calls of the current day at the paris site, one answered within the threshold
and one abandoned, after three poison records (bad Avro, a bad partial, a bad merge move) that must be
dead-lettered without stalling their partitions; Prometheus scrapes its ``/metrics`` every second, and ``/api/v1/query`` must return a
service level of 0.5 for ``site="paris"``. ``promtool check metrics`` accepts the exposition.
"""

from __future__ import annotations

import asyncio
import errno
import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bus.clock import SystemClock
from bus.config import MetricsSettings
from bus.metrics import serve_metrics
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.stack.ports import PORT_RETRIES, PORT_TAKEN_EVENT, PortTaken, start_on_held_ports
from bus.stack.startup import StartWatch
from bus.topic_admin import apply_topics
from bus.topics import CONTACT_EVENTS, KPI_MERGES, KPI_PARTIALS
from processors.kpis.agent import build_worker, changelogs
from processors.kpis.config import KpisSettings
from tests.processors.kpis.factories import call
from tests.support.kafka_io import read_dead_letters
from tests.support.ports import intruding
from tests.support.settings import settings_with_topics

pytestmark = [
    pytest.mark.kafka,
    pytest.mark.skipif(shutil.which("prometheus") is None, reason="Debian's prometheus package is not installed"),
]
QUERY = 'omnibus_kpi_ratio{kpi="service_level",channel="CALL_CENTER",site="paris",period="day"}'


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """(its port, its config file): the config is written by the test before the first scrape matters."""
    with running_prometheus(tmp_path) as started:
        yield started


@contextmanager
def running_prometheus(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """Prometheus on a port held for it until it is ready (``/-/ready``; ``start_on_held_ports``, Go binds with
    ``SO_REUSEADDR``), until the block ends; a start that lost its port anyway ("address already in use" in its log)
    starts again on another."""
    config = tmp_path / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1s}\n")
    starts = iter(range(1, PORT_RETRIES + 1))

    def start(held: list[int]) -> tuple[int, subprocess.Popen[bytes]]:
        log = tmp_path / f"prometheus-{next(starts)}.log"
        with log.open("w") as sink:
            process = subprocess.Popen(
                ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                 f"--web.listen-address=127.0.0.1:{held[0]}", "--web.enable-lifecycle", "--log.level=warn"],
                stdout=subprocess.DEVNULL, stderr=sink,
            )
        try:
            if not _ready(process, held[0], log):
                said = log.read_text(errors="replace")
                kind = PortTaken if "address already in use" in said else AssertionError
                raise kind(f"prometheus did not start on port {held[0]}:\n{said[-2000:]}")
        except BaseException:
            _stop(process)
            raise
        return held[0], process

    port, process = start_on_held_ports([None], start, server="prometheus")
    try:
        yield port, config
    finally:
        _stop(process)


def _ready(process: subprocess.Popen[bytes], port: int, log: Path) -> bool:
    """True once ``/-/ready`` answers 200; False when ``process`` exits first; a failed assertion when it makes no
    progress (``bus.stack.startup``: its ``log``, ``/-/ready``'s answer)."""
    watch = StartWatch("prometheus", [log])
    while process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return True
                answer = f"HTTP {response.status}"
        except OSError as exc:
            answer = f"{type(exc).__name__}: {exc}"
        why = watch.overdue(answer)
        assert why is None, f"prometheus on port {port} {why}"
        time.sleep(0.2)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_prometheus_port_is_held_until_it_binds_it_and_one_lost_anyway_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with intruding(monkeypatch, steal_first=True) as intruder, running_prometheus(tmp_path) as (port, _):
        taken = intruder.starts[0][0][0]
        assert len(intruder.starts) == 2 and port != taken
        assert intruder.starts[1] == ([port], [errno.EADDRINUSE])  # held until prometheus bound it
        assert _get(f"http://127.0.0.1:{port}/api/v1/status/buildinfo")["status"] == "success"
    logged = capsys.readouterr()
    assert PORT_TAKEN_EVENT in logged.out + logged.err and str(taken) in logged.out + logged.err


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


async def _query(port: int, timeout_s: float, expected: float) -> list:
    """The query's result once its value is ``expected`` (the calls may be counted one scrape apart)."""
    deadline = time.monotonic() + timeout_s
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": QUERY})
    while time.monotonic() < deadline:
        try:
            result = (await asyncio.to_thread(_get, url))["data"]["result"]
            if result and float(result[0]["value"][1]) == pytest.approx(expected):
                return result
        except OSError:
            pass  # not listening yet
        await asyncio.sleep(0.5)
    raise TimeoutError(f"Prometheus did not return {expected} for {QUERY} within {timeout_s} s")


async def test_prometheus_reads_a_kpi_scraped_from_the_processor(
    bootstrap_servers: str, prometheus: tuple[int, Path], tmp_path: Path
) -> None:
    prometheus_port, config = prometheus
    settings = await settings_with_topics(bootstrap_servers)
    await apply_topics(settings, changelogs(settings))  # faust's own, ahead of its start: no metadata race
    metrics = serve_metrics(MetricsSettings(port=0), component="test")
    assert metrics is not None
    worker = build_worker(settings, KpisSettings(tick_interval_s=0.5, metrics_refresh_s=0.3), SystemClock(),
                          datadir=str(tmp_path / "kpis"))
    await worker.app.start()
    try:
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"scrape_configs:\n  - job_name: kpis\n    static_configs: [{{targets: ['127.0.0.1:{metrics.port}']}}]\n"
        )
        await asyncio.to_thread(_reload, prometheus_port)
        now = datetime.now(UTC) - timedelta(seconds=5)
        serializer, _ = build_serde(settings.registry)
        topic = CONTACT_EVENTS.name(settings.topics)
        async with EventProducer(settings, serializer) as producer:
            # poison first, on the very partition the calls go to: dead-lettered, the partition moves on
            await producer.send_raw(topic, b"c-fast", b"not avro at all")
            await producer.send_raw(KPI_PARTIALS.name(settings.topics), b"HOUR|0|WEB|", b"{}")
            await producer.send_raw(KPI_MERGES.name(settings.topics), b"cus_1", b"[]")
            await producer.publish_many([
                Outgoing(topic, "c-fast", call(now - timedelta(minutes=3), 4, contact_id="c-fast")),
                Outgoing(topic, "c-gone", call(now - timedelta(minutes=3), None, contact_id="c-gone")),
            ])
        result = await _query(prometheus_port, 60, expected=0.5)
        assert result[0]["metric"]["job"] == "kpis"
        # The three poison records, each dead-lettered by the agent reading its topic (the partials' and merges'
        # agents may get to theirs after the calls are counted); a copy from a redelivered batch has the same id.
        letters: list[dict] = []
        deadline = time.monotonic() + 60
        while len(letters) < 3 and time.monotonic() < deadline:
            letters = await read_dead_letters(settings)
            await asyncio.sleep(0.5)
        assert sorted(letter["source_topic"] for letter in letters) == sorted(
            spec.name(settings.topics) for spec in (CONTACT_EVENTS, KPI_MERGES, KPI_PARTIALS)), letters
        exposition = await asyncio.to_thread(_text, f"http://127.0.0.1:{metrics.port}/metrics")
        assert "omnibus_kpi_measure{" in exposition
        checked = await asyncio.to_thread(subprocess.run, ["promtool", "check", "metrics"], input=exposition,
                                          capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    finally:
        await worker.app.stop()
        metrics.stop()


def _reload(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/-/reload", method="POST")
            with urllib.request.urlopen(request, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()

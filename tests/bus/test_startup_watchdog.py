"""A worker that never becomes ready stops itself (sample: a broker paused before the worker's first restore ended
left it up with /ready 503 and /live 200 forever); a start-up that moves, however slowly, is left alone."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP

from bus.app import PORT_CHOSEN_EVENT
from bus.stack.kafka import KafkaBroker
from bus.stall_exit import WORKER_STALLED_EXIT
from bus.startup_watchdog import (
    READY,
    REBALANCING,
    RESTORING,
    STARTING,
    StartupProgress,
    StartupStallDetector,
    StartupWatch,
    gave_up,
    install,
    startup_progress,
)
from tests.support.ports import logged_port
from tests.support.settings import settings_with_topics

CHANGELOG = "omnibus.kpis-ledger-changelog"


class FakeRecovery:
    def __init__(self) -> None:
        self.completed = asyncio.Event()
        self.remaining: dict[TP, int] = {}

    def active_remaining(self) -> dict[TP, int]:
        return dict(self.remaining)


class FakeApp:
    """What the watch reads of a faust App (and what ``install`` patches)."""

    def __init__(self) -> None:
        self.tables = SimpleNamespace(recovery=FakeRecovery())
        self.in_recovery = self.rebalancing = False


def fake_app() -> Any:
    return FakeApp()


def restoring(left: int) -> StartupProgress:
    return StartupProgress(RESTORING, ((CHANGELOG, 0, left),))


def test_a_start_up_that_stands_still_for_the_stall_window_is_reported_with_its_phase() -> None:
    detector = StartupStallDetector(stall_after_s=60.0)
    assert detector.check(StartupProgress(STARTING), 0.0) is None
    assert detector.check(StartupProgress(STARTING), 5.0) is None
    assert detector.check(StartupProgress(REBALANCING), 10.0) is None  # a new phase is progress
    for second in (15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 65.0):
        assert detector.check(StartupProgress(REBALANCING), second) is None
    reason = detector.check(StartupProgress(REBALANCING), 70.0)
    assert reason is not None and "rebalance" in reason and "60 s" in reason


def test_a_restore_that_reads_records_however_slowly_is_never_stalled() -> None:
    detector = StartupStallDetector(stall_after_s=60.0)
    for tick, left in enumerate(range(1000, 900, -1)):  # one record every 5 s: 500 s of restore
        assert detector.check(restoring(left), tick * 5.0) is None


def test_a_restore_that_reads_nothing_names_the_records_left() -> None:
    detector = StartupStallDetector(stall_after_s=60.0)
    reasons = [detector.check(restoring(338), second) for second in range(0, 65, 5)]
    assert reasons[:-1] == [None] * 12
    assert reasons[-1] is not None and "restore" in reasons[-1] and "338 records left" in reasons[-1]


def test_a_frozen_process_starts_its_clock_again() -> None:
    detector = StartupStallDetector(stall_after_s=60.0, interval_s=5.0)
    assert detector.check(StartupProgress(STARTING), 0.0) is None
    assert detector.check(StartupProgress(STARTING), 300.0) is None  # SIGSTOP for 5 minutes: no clock means anything
    assert detector.check(StartupProgress(STARTING), 355.0) is None
    assert detector.check(StartupProgress(STARTING), 360.0) is not None


def test_ready_is_never_stalled() -> None:
    detector = StartupStallDetector(stall_after_s=1.0)
    assert [detector.check(StartupProgress(READY), float(second)) for second in range(10)] == [None] * 10


def test_the_phase_is_read_from_faust_recovery_and_consumer_state() -> None:
    app = fake_app()
    assert startup_progress(app) == StartupProgress(STARTING)
    app.rebalancing = True
    assert startup_progress(app) == StartupProgress(REBALANCING)
    app.in_recovery = True
    app.tables.recovery.remaining = {TP(CHANGELOG, 1): 7, TP(CHANGELOG, 0): 3}
    progress = startup_progress(app)
    assert progress == StartupProgress(RESTORING, ((CHANGELOG, 0, 3), (CHANGELOG, 1, 7))) and progress.records_left == 10
    app.tables.recovery.completed.set()
    assert startup_progress(app).phase == READY


def test_the_watch_stops_the_worker_once_with_the_reason_and_live_reports_it() -> None:
    app, now, reasons = fake_app(), [0.0], []
    watch = StartupWatch(app, "kpis", StartupStallDetector(10.0, interval_s=2.0), reasons.append, lambda: now[0])
    for second in range(0, 10, 2):
        now[0] = float(second)
        assert watch.tick() is True
    now[0] = 10.0
    assert watch.tick() is False
    assert len(reasons) == 1 and reasons[0].startswith("the worker did not become ready")
    assert watch.gave_up == reasons[0]
    now[0] = 30.0
    assert watch.tick() is False and len(reasons) == 1


def test_the_watch_ends_once_the_worker_is_ready_and_never_judges_it_again() -> None:
    app, now, reasons = fake_app(), [0.0], []
    watch = StartupWatch(app, "kpis", StartupStallDetector(10.0, interval_s=2.0), reasons.append, lambda: now[0])
    assert watch.tick() is True
    app.tables.recovery.completed.set()
    now[0] = 4.0
    assert watch.tick() is False and watch.ready
    app.tables.recovery.completed.clear()  # a later rebalance: the other watchdogs' business
    now[0] = 100.0
    assert watch.tick() is False and reasons == []


async def test_install_starts_the_watch_at_the_app_first_start_and_gave_up_finds_it() -> None:
    app, reasons, futures = fake_app(), [], []
    started: list[bool] = []

    async def on_first_start() -> None:
        started.append(True)

    app.on_first_start = on_first_start
    app.add_future = futures.append
    watch = install(app, "kpis", stall_after_s=0.6, stop=reasons.append)
    assert watch.detector.interval_s == pytest.approx(0.2)  # a short window is checked more often than every 5 s
    await app.on_first_start()
    assert started == [True] and len(futures) == 1
    await asyncio.wait_for(futures[0], timeout=5)  # returns once it gave up
    assert len(reasons) == 1 and gave_up(app) == reasons[0]
    assert gave_up(fake_app()) is None


STALL_AFTER_S = 6.0


def http_status(url: str, timeout_s: float = 2.0) -> tuple[int, dict[str, Any]] | None:
    """(status, JSON body) of a GET, None when nothing answers within ``timeout_s``."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return None


@pytest.mark.kafka
@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_a_worker_whose_broker_stops_answering_during_start_up_gives_up_with_live_503_and_exit_75(
        tmp_path: Path) -> None:
    """The sample: the broker paused (SIGSTOP) as the kpis worker started, before its first restore; the worker
    says why on /live (503) and ends with status 75 and one line, to be started again."""
    broker = KafkaBroker(tmp_path / "broker")
    await asyncio.to_thread(broker.start)
    assert broker.pid is not None
    process: subprocess.Popen[bytes] | None = None
    try:
        config = await settings_with_topics(broker.bootstrap_servers, partitions=1)
        env = {**os.environ, "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": broker.bootstrap_servers,
               "OMNIBUS_TOPICS__PREFIX": config.topics.prefix, "OMNIBUS_TOPICS__PARTITIONS": "1",
               "OMNIBUS_METRICS__PORT": "0", "OMNIBUS_PROCESSOR_KPIS__WEB_PORT": "0",
               "OMNIBUS_STARTUP__STALL_AFTER_S": str(STALL_AFTER_S), "OMNIBUS_STOP__DEADLINE_S": "60"}
        with open(tmp_path / "kpis.log", "wb") as log_file:
            process = subprocess.Popen([sys.executable, "-m", "omnibus", "kpis", "run"], env=env, cwd=tmp_path,
                                       stdout=log_file, stderr=subprocess.STDOUT)
        deadline, web_port = time.monotonic() + 120, None
        while web_port is None:  # port 0: the port the worker bound, from its log
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "kpis.log").read_text()
            web_port = logged_port((tmp_path / "kpis.log").read_text(errors="replace"), PORT_CHOSEN_EVENT)
            await asyncio.sleep(0.02)
        live_url = f"http://127.0.0.1:{web_port}/live"
        while http_status(live_url) is None:  # the web server starts before the consumer joins its group
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "kpis.log").read_text()
            await asyncio.sleep(0.02)
        os.kill(broker.pid, signal.SIGSTOP)
        paused, answer = time.monotonic(), http_status(live_url)
        while process.poll() is None and (answer is None or answer[0] == 200):
            assert time.monotonic() - paused < 60, (tmp_path / "kpis.log").read_text()
            assert answer is None or not answer[1]["ready"], "the worker became ready before the broker paused"
            await asyncio.sleep(0.02)
            answer = http_status(live_url)
        if answer is not None and answer[0] != 200:  # else the stop met no wait and ended before the next look
            status, body = answer
            assert status == 503 and body["live"] is False and body["ready"] is False, body
            assert body["reason"].startswith("the worker did not become ready"), body
        assert time.monotonic() - paused >= STALL_AFTER_S - 1
        os.kill(broker.pid, signal.SIGCONT)  # a stop waiting for the broker leaves the group and closes in time
        returncode = await asyncio.to_thread(process.wait, 90)
        lines = (tmp_path / "kpis.log").read_text(errors="replace").strip().splitlines()
        assert returncode == WORKER_STALLED_EXIT, lines[-5:]
        assert lines[-1].startswith("error: the worker did not become ready"), lines[-5:]
    finally:
        os.kill(broker.pid, signal.SIGCONT)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        await asyncio.to_thread(broker.stop)


def test_a_start_up_standing_still_for_a_minute_logs_the_consumer_state_once_a_minute_before_giving_up(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """CI, 2026-12-01: identity met a 60 s broker outage in its first restore and said nothing for 4 minutes (the
    other watchdogs run only once the worker is ready; this one gives up after 300 s)."""
    from structlog.testing import capture_logs

    from bus import startup_watchdog
    from bus.logging import get_logger

    monkeypatch.setattr(startup_watchdog, "log", get_logger(startup_watchdog.__name__))  # first used when captured
    app, now, reasons = fake_app(), [0.0], []
    app.rebalancing = True
    watch = StartupWatch(app, "identity", StartupStallDetector(300.0, interval_s=5.0), reasons.append, lambda: now[0])
    with capture_logs() as lines:
        for second in range(0, 300, 5):
            now[0] = float(second)
            assert watch.tick() is True
    notes = [line for line in lines if line["event"].startswith("start-up has not moved for a while")]
    assert [line["still_s"] for line in notes] == [60, 120, 180, 240]
    assert notes[0]["phase"] == REBALANCING and notes[0]["rebalancing"] is True and "unread" in notes[0]
    assert reasons == []

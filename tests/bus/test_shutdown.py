"""bus.shutdown: a process asked to stop is gone within its deadline, saying what it abandons.

The broker test reproduces the reported case: the broker killed for good, then SIGTERM to the web adapter
and a processor, which used to wait more than 3 minutes to flush and commit.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest
from faust.types import TP

from bus import shutdown
from bus.config import load_settings
from bus.errors import SchemaRegistryError
from bus.registry_outage import RegistryOutage
from bus.topics import CONTACT_EVENTS
from tests.faults.stack import Proc, Stack, stack
from tests.faults.traffic import WebTraffic
from tests.support.commit_stall import offsets


def recording_exit() -> tuple[list[int], threading.Event, Callable[[int], None]]:
    """An ``exit`` that records its status (the process's own is ``os._exit``)."""
    statuses: list[int] = []
    done = threading.Event()

    def exit_(status: int) -> None:
        statuses.append(status)
        done.set()

    return statuses, done, exit_


def test_nothing_happens_until_the_deadline_is_armed() -> None:
    statuses, done, exit_ = recording_exit()
    deadline = shutdown.StopDeadline(0.01, exit=exit_)
    assert not deadline.armed
    assert not done.wait(0.05)
    assert statuses == []


def test_an_armed_deadline_logs_the_counts_and_exits_124(capsys: pytest.CaptureFixture[str]) -> None:
    statuses, done, exit_ = recording_exit()
    deadline = shutdown.StopDeadline(0.01, exit=exit_)
    deadline.track("unacknowledged_events", lambda: 3)
    deadline.arm()
    assert done.wait(30)
    assert statuses == [shutdown.STOP_DEADLINE_EXIT] == [124]
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: the stop did not finish within 0.01 s"), err
    assert "unacknowledged events: 3" in last


def test_a_stop_begun_during_a_registry_outage_names_the_registry_not_kafka(
        capsys: pytest.CaptureFixture[str]) -> None:
    # A worker stopped while the registry hung was told "is Kafka reachable?" though Kafka was fine; its waiting
    # look-ups are cancelled by the stop, so the outage may be over (``left``) by the time the deadline passes.
    outage = RegistryOutage()
    outage.failed(SchemaRegistryError("schema registry at http://registry unreachable", retriable=True))
    statuses, done, exit_ = recording_exit()
    deadline = shutdown.StopDeadline(0.05, exit=exit_, registry=outage)
    deadline.arm()
    outage.left()
    assert done.wait(30)
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "schema registry was not answering" in last and "Kafka" not in last.split(";")[0], last


def test_a_second_signal_does_not_push_the_deadline_back() -> None:
    deadline = shutdown.StopDeadline(3600, exit=lambda status: None)
    deadline.arm()
    first = deadline._timer
    deadline.arm()
    assert deadline._timer is first
    deadline.disarm()
    assert not deadline.armed


def test_a_count_that_cannot_be_taken_is_reported_unknown() -> None:
    deadline = shutdown.StopDeadline(1, exit=lambda status: None)
    deadline.track("uncommitted_records", lambda: 1 // 0)
    deadline.track("unacknowledged_events", lambda: 2)
    assert deadline.abandoned() == {"uncommitted_records": shutdown.UNKNOWN, "unacknowledged_events": 2}


def test_the_process_deadline_is_installed_once_and_armed_by_name() -> None:
    installed = shutdown.install(3600)
    try:
        assert shutdown.current() is installed
        shutdown.track("unacknowledged_events", lambda: 5)
        shutdown.arm()
        assert installed.armed and installed.abandoned() == {"unacknowledged_events": 5}
    finally:
        installed.disarm()
        shutdown._process_deadline = None


def test_uncommitted_records_count_input_partitions_only() -> None:
    contacts_0, contacts_1 = TP("p.contact.events", 0), TP("p.contact.events", 1)
    young, changelog = TP("p.x", 0), TP("p.kpis-counts-changelog", 0)
    consumer = SimpleNamespace(
        _read_offset={contacts_0: 41, contacts_1: 9, young: 4, changelog: 500},
        _committed_offset={contacts_0: 40, contacts_1: 10, changelog: None},
    )
    # 40 and 41 read past the commit at 40; partition 1 all committed; a partition never committed counts from 0
    assert shutdown.faust_uncommitted(consumer) == 2 + 0 + 5


def test_the_default_deadline_is_below_every_grace_period_in_deploy() -> None:
    """Kubernetes sends SIGKILL at terminationGracePeriodSeconds: the deadline must pass first, so the pod's
    last lines say what was abandoned."""
    default = load_settings(kafka={"bootstrap_servers": "127.0.0.1:9"}).stop.deadline_s
    root = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
    graces = {path.name: int(found) for path in root.rglob("*.yaml")
              for found in re.findall(r"terminationGracePeriodSeconds:\s*(\d+)", path.read_text())}
    assert graces, "no terminationGracePeriodSeconds in deploy/k8s"
    assert all(grace >= default + 5 for grace in graces.values()), (default, graces)


# -- the reported case, with a real broker that goes away ------------------------------------------------------------

DEADLINE_S = 8
MARGIN_S = 60  # far below the 3 minutes seen before; only a process that ignored its deadline is this late


def stop_and_time(proc: Proc) -> tuple[int, float]:
    began = time.monotonic()
    proc.popen.send_signal(15)
    try:
        status = proc.popen.wait(DEADLINE_S + MARGIN_S)
    except subprocess.TimeoutExpired:
        status = -1
    return status, time.monotonic() - began


async def processed(running: Stack, group: str) -> bool:
    found = await offsets(running.bootstrap_servers, group, {CONTACT_EVENTS.name(running.settings().topics)})
    return bool(found) and all(done >= end for done, end in found.values()) and any(end for _, end in found.values())


@pytest.mark.kafka
@pytest.mark.timeout(600)
async def test_adapter_and_processor_exit_within_the_deadline_when_the_broker_is_gone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_STOP__DEADLINE_S", str(DEADLINE_S))
    with stack(tmp_path) as running:
        kpis = running.processor("kpis")
        web = running.web_adapter(publish_timeout_s="2", retry_after_s="1")
        assert web.port is not None
        traffic = WebTraffic(web.port)
        async with aiohttp.ClientSession() as session:
            before = await traffic.post(session, "m-before-0")
            assert before.status == 200
            until = time.monotonic() + 180
            while not await processed(running, running.group("kpis")):
                assert kpis.alive(), kpis.tail()
                assert time.monotonic() < until, f"kpis did not commit the track:\n{kpis.tail()}"
                await asyncio.sleep(1)
            running.broker_kill9()
            during = await traffic.post(session, "m-during-1")
        assert during.status == 503 and during.retry_after, during  # never 2xx for what Kafka did not acknowledge
        (web_status, web_s), (kpis_status, kpis_s) = await asyncio.gather(
            asyncio.to_thread(stop_and_time, web), asyncio.to_thread(stop_and_time, kpis))
    web_log, kpis_log = web.log.read_text(errors="replace"), kpis.log.read_text(errors="replace")
    print(f"web adapter: exit {web_status} after {web_s:.1f} s; kpis: exit {kpis_status} after {kpis_s:.1f} s")
    for status, log in ((web_status, web_log), (kpis_status, kpis_log)):
        assert status == shutdown.STOP_DEADLINE_EXIT, log[-3000:]
        lines = log.strip().splitlines()
        assert lines[-1].startswith(f"error: the stop did not finish within {DEADLINE_S} s"), lines[-5:]
        passed = [json.loads(line) for line in lines if "stop deadline passed" in line]
        assert len(passed) == 1 and passed[0]["level"] == "error", lines[-5:]
    assert isinstance(json.loads(next(line for line in web_log.splitlines() if "stop deadline passed" in line))
                      ["unacknowledged_events"], int)
    assert isinstance(json.loads(next(line for line in kpis_log.splitlines() if "stop deadline passed" in line))
                      ["uncommitted_records"], int)


async def test_a_crash_of_the_app_starts_the_stop_deadline_with_the_crash_status(monkeypatch) -> None:
    """A crashed worker hung in faust's stop for minutes, ignoring SIGTERM: its stop is bounded like a signalled
    one, and the process then exits with the crash's status 1."""
    from bus import app as bus_app

    exits: list[int] = []
    deadline = shutdown.StopDeadline(40.0, exit=exits.append)
    monkeypatch.setattr(shutdown, "_process_deadline", deadline)
    crashed: list[BaseException] = []

    async def crash(reason: BaseException) -> None:
        crashed.append(reason)

    app = SimpleNamespace(crash=crash, consumer=None)
    worker = SimpleNamespace(_schedule_shutdown=lambda signum: None, install_signal_handlers=lambda: None)
    bus_app.arm_stop_deadline(worker, app)  # type: ignore[arg-type]
    error = RuntimeError("boom")
    try:
        await app.crash(error)
        assert crashed == [error] and deadline.armed and deadline.stopping_for() is not None
        deadline.expire()
        assert exits == [1]
    finally:
        deadline.disarm()


LINGERS = """
import json, sys, time
from bus import shutdown

class Slow:  # torn down in Python's own exit, after the deadline's timer thread can run
    def __del__(self, sleep=time.sleep):
        sleep(8)

json.kept = Slow()
shutdown.install(1.0)
with shutdown.exit_at_once_once_stopping():
    shutdown.arm()
    print("stopped", time.monotonic(), flush=True)  # the clock every process of the host reads alike
    raise SystemExit(STATUS)
"""


@pytest.mark.parametrize("status", [0, 3])
def test_a_stopped_process_ends_after_its_last_line_not_after_python_s_own_exit(status: int) -> None:
    """A user: a kpis worker whose stop finished (its line written) lingered 72 s in its exit, past the 40 s deadline,
    and exited 0: the deadline's timer cannot fire while Python finalizes. A process whose stop began ends at once
    after its last line, with its status."""
    done = subprocess.run([sys.executable, "-c", LINGERS.replace("STATUS", str(status))], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    ended = time.monotonic()
    said, stopped_at = done.stdout.split()
    assert (done.returncode, said) == (status, "stopped"), done.stderr[-2000:]
    assert ended - float(stopped_at) < 6, done.stderr[-2000:]  # from its last line: its imports take seconds too


def test_a_process_that_did_not_stop_exits_as_python_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """No stop began (a one-shot command, a test): its exit is Python's own, ``SystemExit`` passes."""
    monkeypatch.setattr(shutdown, "_process_deadline", None)
    with pytest.raises(SystemExit) as exit_, shutdown.exit_at_once_once_stopping():
        raise SystemExit(5)
    assert exit_.value.code == 5

"""A worker asked to stop (SIGTERM) while it starts: one line and status 0 (``bus.early_stop``)."""

from __future__ import annotations

import ast
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bus import early_stop, worker_exit
from omnibus.cli import WORKERS

REPO = Path(__file__).resolve().parents[2]


def test_the_worker_commands_are_the_processors_whose_run_starts_a_faust_worker() -> None:
    """``omnibus.cli.WORKERS``: every processor whose ``run`` goes through ``bus.app.run_worker``, and no other."""
    running = set()
    for cli in REPO.glob("processors/*/cli.py"):
        calls = [node for node in ast.walk(ast.parse(cli.read_text())) if isinstance(node, ast.Call)]
        if any(getattr(call.func, "id", None) == "run_worker" for call in calls):
            running.add(cli.parent.name)
    assert running == set(WORKERS)


@pytest.mark.parametrize(("argv", "worker"), [
    (["identity", "run", "--web-port", "0"], True), (["kpis", "run"], True), (["--no-color", "offers", "run"], True),
    (["identity", "split", "C-1"], False), (["adapter", "web", "run"], False), (["kpis"], False), ([], False),
    (["report", "kpis", "--from", "2026-03-01"], False), (["topics", "read", "run"], False),
])
def test_a_worker_command_is_a_worker_groups_run(argv: list[str], worker: bool) -> None:
    assert early_stop.starts_worker(argv, WORKERS) is worker


@pytest.fixture
def hanging_broker() -> Iterator[str]:
    """A bootstrap address that accepts connections and never answers: the worker's start waits on it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


def _catches_sigterm(pid: int) -> bool:
    """Whether process ``pid`` has a handler of its own for SIGTERM (``SigCgt`` of ``/proc/PID/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize("after_s", [0.0, 1.5])
def test_a_worker_sent_sigterm_while_it_starts_stops_with_one_line_and_status_0(
        hanging_broker: str, tmp_path: Path, after_s: float) -> None:
    """A user: ``omnibus kpis run`` sent SIGTERM 2 s after its start exited 143 with an empty log (a signal death to
    its supervisor); 6 s after, 0. Now from the command's first line: status 0 and the line saying it stopped while
    starting. ``after_s``: seconds after the process can take the signal (loading its modules; waiting on a broker
    that does not answer)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": hanging_broker,
           "OMNIBUS_METRICS__PORT": "0"}
    worker = subprocess.Popen([sys.executable, "-m", "omnibus", "kpis", "run", "--web-port", "0"], cwd=tmp_path,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while worker.poll() is None and not _catches_sigterm(worker.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(after_s)
        assert worker.poll() is None, worker.communicate()
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err[-3000:]
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert lines and lines[-1]["event"] == early_stop.STOPPED_WHILE_STARTING, err[-3000:]
    assert lines[-1]["level"] == "info" and "Traceback" not in err and out == ""


def test_a_start_the_stop_cut_short_ends_with_the_line_and_status_0(monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """CI: identity sent SIGTERM while faust's services started (a table declaring its changelog topic found the
    producer stopped under it: ``NotReady``) exited 1, "the worker crashed". A stop asked before the worker was ready
    ends with the early stop's line and status 0 whatever the start raised; once ready, a crash is still one."""
    from faust.exceptions import NotReady

    class Worker:
        crash_reason: BaseException | None = NotReady("Producer service not yet started")

    class App:
        agents: dict[str, object] = {}

    monkeypatch.setattr(early_stop, "_said", [])
    monkeypatch.setattr(early_stop, "_signalled_while_starting", [True])
    for raised in (SystemExit(1), NotReady("Producer service not yet started")):
        monkeypatch.setattr(early_stop, "_said", [])
        with pytest.raises(SystemExit) as ended, worker_exit.fatal_errors_exit(App(), Worker()):  # type: ignore[arg-type]
            raise raised
        assert ended.value.code == 0
        assert early_stop.STOPPED_WHILE_STARTING in capsys.readouterr().err
    monkeypatch.setattr(early_stop, "_signalled_while_starting", [False])  # the worker was ready: a crash
    with pytest.raises(SystemExit) as ended, worker_exit.fatal_errors_exit(App(), Worker()):  # type: ignore[arg-type]
        raise SystemExit(1)
    assert ended.value.code == worker_exit.WORKER_CRASHED_EXIT
    assert "the worker crashed: NotReady" in capsys.readouterr().err


def test_a_signal_is_noted_as_while_starting_until_the_first_recovery_completed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    from types import SimpleNamespace

    monkeypatch.setattr(early_stop, "_signalled_while_starting", [])
    completed = asyncio.Event()
    app = SimpleNamespace(tables=SimpleNamespace(recovery=SimpleNamespace(completed=completed)), in_recovery=False,
                          rebalancing=True)
    early_stop.note_signal(app)
    assert early_stop.signalled_while_starting()
    completed.set()
    early_stop.note_signal(app)
    assert not early_stop.signalled_while_starting()
    early_stop.note_signal(object())  # not a faust app: judged as faust judges the stop
    assert not early_stop.signalled_while_starting()


@pytest.mark.kafka
@pytest.mark.timeout(240)
@pytest.mark.parametrize("event", ["metrics endpoint listening", "web server port chosen", "[^Worker]: Starting..."])
async def test_an_identity_worker_sent_sigterm_as_it_starts_on_a_broker_stops_with_the_line_and_status_0(
        bootstrap_servers: str, tmp_path: Path, event: str) -> None:
    """CI: an identity worker sent SIGTERM while it started (after its ports were logged, while faust's services
    started) exited 1, "the worker crashed: NotReady". SIGTERM as each of these lines is written: wherever the start
    is then, status 0 and the last line says it stopped while starting."""
    from tests.support.settings import settings_with_topics

    config = await settings_with_topics(bootstrap_servers, partitions=3)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers,
           "OMNIBUS_TOPICS__PREFIX": config.topics.prefix, "OMNIBUS_TOPICS__PARTITIONS": "3",
           "OMNIBUS_METRICS__PORT": "0", "OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY": "test-only-hmac-key-of-some-length"}
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "omnibus", "identity", "run", "--web-port", "0"], env=env,
                                  cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while worker.poll() is None and time.monotonic() < deadline and event not in log.read_text(errors="replace"):
            time.sleep(0.02)
        assert worker.poll() is None, log.read_text()[-3000:]
        worker.send_signal(signal.SIGTERM)
        worker.wait(90)
    finally:
        if worker.poll() is None:
            worker.kill()
    text = log.read_text(errors="replace")
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert worker.returncode == 0, text[-3000:]
    said = [line for line in lines if line["event"] == early_stop.STOPPED_WHILE_STARTING]
    print(f"SIGTERM at {event!r}: said {said}, ready first: {'Worker ready' in text}")
    if "Worker ready" in text:  # the start outran the signal: a plain stop, nothing to say
        assert not said
        return
    assert len(said) == 1, text[-3000:]

"""``adapter web run --workers 2``: two processes on one port, each with its own producer, one shared
dedupe file; every acknowledged event lands on Kafka exactly once, redeliveries included. On port 0 the parent picks
the port and holds it for its workers."""

from __future__ import annotations

import asyncio
import errno
import json
import re
import socket
import urllib.request
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from adapters.base.http import LISTENING_EVENT as ADAPTER_LISTENING
from adapters.base.workers import PORT_CHOSEN_EVENT, hold_port, metrics_ports, refusal, worker_settings
from bus.config import load_settings
from bus.metrics import LISTENING_EVENT as METRICS_LISTENING
from bus.topics import CONTACT_EVENTS
from tests.adapters.web.support import message_id_of
from tests.support.kafka_io import read_events
from tests.support.processes import omnibus_command
from tests.support.settings import settings_with_topics

WRITE_KEY = "wk-workers"
BATCHES, PER_BATCH, RESENT = 40, 5, 10
PUBLISHED = re.compile(r'^omnibus_adapter_events_published_total\{adapter="web"\} (\S+)$', re.MULTILINE)


def test_several_workers_need_a_shared_dedupe_file(tmp_path: Path) -> None:
    assert refusal(1, None) is None
    assert "dedupe" in (refusal(2, None) or "")
    assert refusal(2, tmp_path / "d.sqlite") is None
    assert "at least 1" in (refusal(0, tmp_path / "d.sqlite") or "")


def test_the_port_held_for_workers_on_port_zero_is_theirs_alone() -> None:
    """``--workers N --port 0``: the parent holds the port it picked (``hold_port``) and logs it. No socket without
    ``SO_REUSEPORT`` can bind it meanwhile, a connection before a worker listens is refused, and once the workers
    listen with ``SO_REUSEPORT`` (as ``adapters.base.http.serve`` does) every connection reaches one of them, never
    the held socket. (The parent's log line naming the port: the broker test below.)"""
    with hold_port("127.0.0.1") as held:
        port = held.getsockname()[1]
        for reuse_address in (False, True):
            with socket.socket() as intruder:
                intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, int(reuse_address))
                with pytest.raises(OSError) as taken:
                    intruder.bind(("127.0.0.1", port))
                assert taken.value.errno == errno.EADDRINUSE
        with socket.socket() as early, pytest.raises(ConnectionRefusedError):
            early.connect(("127.0.0.1", port))

        async def two_workers_answer(connections: int) -> int:
            async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                writer.write(b"ok")
                await writer.drain()
                writer.close()

            servers = [await asyncio.start_server(handle, "127.0.0.1", port, reuse_port=True) for _ in range(2)]
            answered = 0
            for _ in range(connections):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                answered += await reader.read() == b"ok"
                writer.close()
            for server in servers:
                server.close()
                await server.wait_closed()
            return answered

        assert asyncio.run(two_workers_answer(50)) == 50


def test_each_worker_serves_metrics_on_its_own_port() -> None:
    settings = load_settings(metrics={"enabled": True, "port": 9500})
    assert [worker_settings(settings, index).metrics.port for index in range(3)] == [9500, 9501, 9502]
    assert metrics_ports(settings, 3) == [9500, 9501, 9502]  # what the start line names
    assert metrics_ports(load_settings(metrics={"enabled": False}), 2) is None


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


@pytest.mark.kafka
def test_two_workers_publish_every_acknowledged_event_exactly_once(bootstrap_servers: str, tmp_path: Path) -> None:
    """On port 0, adapter and metrics alike: the workers share the port their parent picked and logged, and each
    serves its metrics on a port of its own, each logged."""
    settings = asyncio.run(settings_with_topics(bootstrap_servers))
    environment = {
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
        "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": settings.topics.prefix,
        "OMNIBUS_TOPICS__PARTITIONS": "3", "OMNIBUS_LOG__JSON_OUTPUT": "true", "OMNIBUS_METRICS__ENABLED": "true",
        "OMNIBUS_METRICS__HOST": "127.0.0.1", "OMNIBUS_METRICS__PORT": "0",
        "OMNIBUS_ADAPTER_WEB__WRITE_KEYS": json.dumps({"portal": WRITE_KEY}),
        "OMNIBUS_ADAPTER_WEB__DEDUPE_PATH": str(tmp_path / "dedupe.sqlite"),
    }
    bodies = [json.dumps({"writeKey": WRITE_KEY, "batch": [_message(b, i) for i in range(PER_BATCH)]}).encode()
              for b in range(BATCHES)]
    with omnibus_command(["adapter", "web", "run", "--port", "0", "--workers", "2"], environment, tmp_path) as server:
        port = server.port(PORT_CHOSEN_EVENT)
        # a start-up's lines came 90 s after the launch at load 20+ (Command.port)
        listening = server.wait_for(lambda: _two(server.logged_all(ADAPTER_LISTENING)), "both workers listening", 240)
        metrics = server.wait_for(lambda: _two(server.logged_all(METRICS_LISTENING)), "both metrics endpoints", 240)
        assert listening == [port, port] and len(set(metrics)) == 2 and port not in metrics
        server.wait_for(lambda: all(_answers(f"http://127.0.0.1:{each}/metrics") for each in metrics), "metrics")
        assert len(_children(server.process.pid)) == 2
        asyncio.run(_post_all(port, bodies))
        asyncio.run(_post_all(port, bodies[:RESENT]))  # redeliveries, to whichever worker: deduped
        per_worker = [_published(each) for each in metrics]
    assert server.process.returncode == 0, server.output[-3000:]
    assert server.output.count("web hall stopped") == 2, server.output[-3000:]
    assert all(count > 0 for count in per_worker) and sum(per_worker) == BATCHES * PER_BATCH, per_worker

    landed = asyncio.run(read_events(settings, CONTACT_EVENTS))
    copies = Counter(message_id_of(item.event.value["interaction_id"]) for item in landed)
    expected = {f"m-{b}-{i}" for b in range(BATCHES) for i in range(PER_BATCH)}
    assert set(copies) == expected and set(copies.values()) == {1}


def _two(ports: list[int]) -> list[int] | None:
    return ports if len(ports) == 2 else None


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
    assert shared == tmp_path / "omnibus" / "web" / "dedupe-8080.sqlite" and refusal(2, shared) is None
    assert dedupe_file("web", AdapterSettings(port=8081)) != shared
    mine = tmp_path / "mine.sqlite"
    assert dedupe_file("web", AdapterSettings(port=8080, dedupe_path=mine)) == mine
    in_memory = dedupe_file("web", AdapterSettings(port=8080, dedupe_in_memory=True))
    assert in_memory is None and "dedupe" in (refusal(2, in_memory) or "")  # the opt-out: one process only
    monkeypatch.delenv("XDG_STATE_HOME")
    assert dedupe_file("web", AdapterSettings(port=8080)) == Path.home() / ".local/state/omnibus/web/dedupe-8080.sqlite"


# A parent of two workers signalled just after forking the first: the stop reaches both, each as it starts.
SIGNALLED_WHILE_FORKING = """
import multiprocessing.context, os, signal, sys, time
from types import SimpleNamespace
from adapters.base import workers
from bus import early_stop

start = multiprocessing.context.ForkProcess.start
def start_then_signalled(process):
    start(process)
    if process.name == "worker-0":
        os.kill(os.getpid(), signal.SIGTERM)
multiprocessing.context.ForkProcess.start = start_then_signalled
def starting(settings, reuse_port):
    time.sleep(120)  # a start waiting on a broker that does not answer
with early_stop.while_starting(["run"], {("run",): "adapter.web"}):
    print("status", workers.run_workers(2, SimpleNamespace(metrics=SimpleNamespace(enabled=False)), starting))
"""


def test_a_stop_while_the_workers_are_forked_reaches_every_worker_as_it_starts(tmp_path: Path) -> None:
    """``--workers 2`` sent SIGTERM as it forked its workers (CI-like load): a worker forked after the signal never
    heard it, and one that got it before its own handler was set ran the parent's forwarding handler instead; the
    parent then waited for them for good. Now each worker stops, with the early stop's line and status 0."""
    import subprocess
    import sys

    from bus import early_stop

    repo = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", SIGNALLED_WHILE_FORKING], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "status 0", done.stderr[-3000:]
    assert done.stderr.count(early_stop.STOPPED_WHILE_STARTING) == 2, done.stderr[-3000:]


# A parent of two workers whose stop finished but that would linger at their exit: a thread still running.
LINGERING_WORKERS = """
import threading, time
from types import SimpleNamespace
from adapters.base import workers
from bus import shutdown

shutdown.install(30.0)  # as ``bus.bootstrap.start_process`` does in the parent: each worker has its copy
def serving(settings, reuse_port):
    threading.Thread(target=time.sleep, args=(8,)).start()  # not a daemon: Python's exit waits for it
    shutdown.arm()  # what its SIGTERM handler does (``adapters.base.cli.stop_on_signals``)
    print("stopped", flush=True)
began = time.monotonic()
status = workers.run_workers(2, SimpleNamespace(metrics=SimpleNamespace(enabled=False)), serving)
print("status", status, "after", round(time.monotonic() - began, 1), flush=True)
"""


def test_a_worker_whose_stop_finished_ends_after_its_last_line(tmp_path: Path) -> None:
    """A user: the parent of ``--workers 2`` exited 15-40 s after both workers' "stopped" lines. A forked worker whose
    stop began ends right after its last line (``bus.shutdown.exit_at_once_once_stopping``), as the ``omnibus`` script
    does, not after what still runs in it."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", LINGERING_WORKERS], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"})
    status, _, after_s = done.stdout.splitlines()[-1].split()[1:]
    assert done.returncode == 0 and status == "0" and done.stdout.count("stopped") == 2, done.stderr[-3000:]
    assert float(after_s) < 6, done.stdout  # the thread runs 8 s


def test_the_workers_share_the_file_of_the_configured_port_and_on_port_0_one_of_the_run(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A user: ``--workers 2 --port 0`` named its dedupe file after the port picked, ``dedupe-56411.sqlite``: each run
    left a file no later run reads. The workers share the configured port's file (a restart finds it); on port 0, as
    one process keeps its memory for the run only, a file of the run, removed at its end. Said in one log line."""
    from structlog.testing import capture_logs

    from adapters.base import workers
    from adapters.base.config import AdapterSettings

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setattr(workers, "log", workers.get_logger(workers.__name__))  # first used inside capture_logs
    with capture_logs() as lines, workers.shared_dedupe("web", AdapterSettings(port=8080), 2, setting="S") as fixed:
        assert fixed.dedupe_path == tmp_path / "omnibus" / "web" / "dedupe-8080.sqlite"
    with capture_logs() as run_lines, workers.shared_dedupe("web", AdapterSettings(port=0), 2, setting="S") as run:
        assert run.dedupe_path is not None and run.dedupe_path.parent.name.startswith(workers.RUN_ONLY_PREFIX)
        run.dedupe_path.write_bytes(b"")
        assert refusal(2, run.dedupe_path) is None
    assert not run.dedupe_path.parent.exists() and not (tmp_path / "omnibus").exists()
    assert [(line["event"], line["path"]) for line in [*lines, *run_lines]] == [
        (workers.SHARED_DEDUPE_EVENT, str(fixed.dedupe_path)), (workers.SHARED_DEDUPE_EVENT, str(run.dedupe_path))]
    with workers.shared_dedupe("web", AdapterSettings(port=0), 1, setting="S") as alone:
        assert alone.dedupe_path is None  # one process on port 0: memory, as before
    with workers.shared_dedupe("web", AdapterSettings(port=8080, dedupe_in_memory=True), 2, setting="S") as memory:
        assert memory.dedupe_path is None and refusal(2, memory.dedupe_path)  # refused, as before


def test_web_workers_on_port_0_log_their_dedupe_file_and_serve_on_the_port_held(
        monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``adapter web run --workers 2 --port 0``: the file the workers share is the run's, not one named after the port
    held, and the parent says so in a log line, not a plain-text line among them."""
    from typer.testing import CliRunner

    from adapters.base import workers
    from adapters.web import cli
    from adapters.web.config import WebSettings

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setattr(cli, "load_or_exit", lambda *_, port, **__: (load_settings(), WebSettings(port=port)))
    served: list[WebSettings] = []

    def run_workers(count: int, settings: object, main: workers.WorkerMain) -> int:
        main(settings, True)  # type: ignore[arg-type]
        return 0

    async def serve_until_signalled(*_: object, **__: object) -> None:
        return None

    monkeypatch.setattr(cli, "run_workers", run_workers)
    monkeypatch.setattr(cli, "running_web_adapter", lambda _, web, **__: served.append(web))
    monkeypatch.setattr(cli, "serve_until_signalled", serve_until_signalled)
    result = CliRunner().invoke(cli.app, ["run", "--workers", "2", "--port", "0"])
    assert result.exit_code == 0, result.output
    [web] = served
    assert web.port != 0 and web.dedupe_path is not None and str(web.port) not in web.dedupe_path.name
    assert web.dedupe_path.parent.name.startswith(workers.RUN_ONLY_PREFIX) and not web.dedupe_path.parent.exists()
    assert "share the dedupe file" not in result.output + capfd.readouterr().err
    assert not list(tmp_path.rglob("dedupe-*.sqlite"))

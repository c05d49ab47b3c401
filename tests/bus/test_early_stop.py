"""A worker or an adapter asked to stop (SIGTERM) while it starts: one line and status 0 (``bus.early_stop``)."""

from __future__ import annotations

import ast
import json
import os
import signal
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from bus import early_stop, worker_exit
from omnibus.entry import RUNS_UNTIL_STOPPED, WORKERS

REPO = Path(__file__).resolve().parents[2]


def test_the_worker_commands_are_the_processors_whose_run_starts_a_faust_worker() -> None:
    """``omnibus.entry.WORKERS``: every processor whose ``run`` goes through ``bus.app.run_worker``, and no other."""
    running = set()
    for cli in REPO.glob("processors/*/cli.py"):
        calls = [node for node in ast.walk(ast.parse(cli.read_text())) if isinstance(node, ast.Call)]
        if any(getattr(call.func, "id", None) == "run_worker" for call in calls):
            running.add(cli.parent.name)
    assert running == set(WORKERS)


@pytest.mark.parametrize(("argv", "runs"), [
    (["identity", "run", "--web-port", "0"], True), (["kpis", "run"], True), (["--no-color", "offers", "run"], True),
    (["adapter", "web", "run", "--workers", "2"], True), (["adapter", "call-center", "run"], True),
    (["adapter", "branch", "run"], True), (["adapter", "legacy", "relay"], True), (["adapter", "legacy", "poll"], True),
    (["counter-agent", "run", "--journal", "j.sqlite"], True),
    (["identity", "split", "C-1"], False), (["kpis"], False), ([], False), (["adapter", "web", "openapi"], False),
    (["adapter", "legacy", "import-batch", "--layout", "l.yaml", "f.csv"], False), (["counter-agent", "status"], False),
    (["report", "kpis", "--from", "2026-03-01"], False), (["topics", "read", "run"], False),
    (["adapter", "run"], False),
    (["adapter", "call-center", "import-cdr", "Master.csv", "--site", "lyon", "--follow"], True),
    (["adapter", "call-center", "import-cdr", "--follow", "Master.csv", "--site", "lyon"], True),
    (["adapter", "call-center", "import-cdr", "Master.csv", "--site", "lyon"], False),
])
def test_a_command_that_runs_until_stopped_is_told_by_its_words(argv: list[str], runs: bool) -> None:
    """Its words in order, other options skipped; an option the command names (``import-cdr --follow``: one-shot
    without it) given."""
    assert early_stop.runs_until_stopped(argv, RUNS_UNTIL_STOPPED) is runs


@pytest.mark.parametrize(("argv", "component"), [
    (["identity", "run", "--web-port", "0"], "identity"), (["kpis", "run"], "kpis"), (["offers", "run"], "offers"),
    (["handoffs", "run"], "handoffs"), (["adapter", "web", "run", "--workers", "2"], "adapter.web"),
    (["adapter", "branch", "run"], "adapter.branch"), (["adapter", "call-center", "run"], "adapter.call_center"),
    (["adapter", "call-center", "import-cdr", "M.csv", "--site", "s", "--follow"], "adapter.call_center"),
    (["adapter", "legacy", "relay"], "adapter.legacy"), (["adapter", "legacy", "poll"], "adapter.legacy"),
    (["counter-agent", "run"], "counter-agent"), (["identity", "split", "C-1"], None),
])
def test_a_command_s_component_is_told_by_its_words(argv: list[str], component: str | None) -> None:
    assert early_stop.running(argv, RUNS_UNTIL_STOPPED) == component


def test_the_components_named_before_the_settings_load_are_those_the_settings_bind() -> None:
    """A user: the early line had no ``component`` before the settings loaded; several workers logging to one journal
    could not tell whose stop it was. ``RUNS_UNTIL_STOPPED`` names it without importing the command's modules: the
    same names as theirs (``bus.bootstrap.start_process``: ``metrics_of``, ``logged_as``)."""
    from adapters.base.runtime import adapter_component
    from adapters.branch.agent import COMPONENT as AGENT
    from adapters.branch.ingress import NAME as BRANCH
    from adapters.call_center.ingress_http import NAME as CALL_CENTER
    from adapters.legacy.mapper import COMPONENT as LEGACY
    from adapters.web.ingress import NAME as WEB
    from processors.handoffs.agent import APP_NAME as HANDOFFS
    from processors.identity.agent import COMPONENT as IDENTITY
    from processors.kpis.agent import APP_NAME as KPIS
    from processors.offers.agent import APP_NAME as OFFERS

    assert {RUNS_UNTIL_STOPPED[(group, "run")] for group in WORKERS} == {IDENTITY, KPIS, HANDOFFS, OFFERS}
    adapters = {words[1]: name for words, name in RUNS_UNTIL_STOPPED.items() if words[0] == "adapter"}
    assert adapters == {"web": adapter_component(WEB), "branch": adapter_component(BRANCH),
                        "call-center": adapter_component(CALL_CENTER), "legacy": adapter_component(LEGACY)}
    assert all(RUNS_UNTIL_STOPPED[words] == adapters[words[1]] for words in RUNS_UNTIL_STOPPED if words[0] == "adapter")
    assert RUNS_UNTIL_STOPPED[("counter-agent", "run")] == AGENT


def test_the_counter_agent_s_own_entry_point_stops_the_same_commands_as_the_omnibus_script() -> None:
    from adapters.branch.agent import RUNS_UNTIL_STOPPED as AGENT_RUNS

    assert {("counter-agent", *command): name for command, name in AGENT_RUNS.items()} == {
        command: name for command, name in RUNS_UNTIL_STOPPED.items() if command[0] == "counter-agent"}


def test_the_early_line_names_the_command_s_component_before_its_settings_load(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The line of a SIGTERM that came while the command's modules loaded (no component bound yet) names the
    component its words say."""
    import structlog

    monkeypatch.setattr(early_stop, "PROCESS", early_stop.StopState())
    monkeypatch.setattr(structlog, "is_configured", lambda: False)  # configured afresh, as in a process just started
    handler, hook = signal.getsignal(signal.SIGTERM), sys.unraisablehook
    try:
        with pytest.raises(SystemExit) as exit_, early_stop.while_starting(["kpis", "run"], RUNS_UNTIL_STOPPED):
            signal.raise_signal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, handler)
        sys.unraisablehook = hook
    assert exit_.value.code == 0
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (line["event"], line["component"]) == (early_stop.STOPPED_WHILE_STARTING, "kpis")


# Run as the ``omnibus`` script: at the first import of a heavy module (what ``omnibus.cli`` loads for seconds),
# prints what SIGTERM's handler is then and exits.
FIRST_HEAVY_IMPORT = """
import importlib.abc, os, runpy, signal, sys

class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"typer", "click", "pydantic", "structlog", "faust", "aiokafka", "mode"}:
            handler = signal.getsignal(signal.SIGTERM)
            print(name, getattr(handler, "__module__", handler), flush=True)
            os._exit(0)
        return None

sys.meta_path.insert(0, Watch())
sys.argv = ["omnibus", *ARGV]
TARGET
"""


@pytest.mark.parametrize("target", ["runpy.run_module('omnibus', run_name='__main__')", "script"])
@pytest.mark.parametrize("argv", [["kpis", "run"], ["adapter", "web", "run", "--port", "0"]])
def test_sigterm_is_handled_before_the_command_s_modules_load(target: str, argv: list[str]) -> None:
    """A user: ``omnibus kpis run`` or ``adapter web run`` sent SIGTERM in its first 2-3 s (importing typer, pydantic,
    faust) exited 143 with an empty log. The early handler is set before the first of them is imported, by
    ``python -m omnibus`` and by the installed script's entry point (``[project.scripts]``)."""
    import tomllib

    if target == "script":
        scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
        module, function = scripts["omnibus"].split(":")
        target = f"import {module}; {module}.{function}()"
    code = FIRST_HEAVY_IMPORT.replace("ARGV", repr(argv)).replace("TARGET", target)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0 and done.stdout.split()[1:] == ["bus.early_stop"], (done.stdout, done.stderr[-2000:])


def test_every_adapter_command_that_waits_for_a_signal_runs_until_stopped() -> None:
    """Every adapter command whose body waits for SIGTERM (``serve_until_signalled``, ``stop_on_signals``, the
    counter agent's loop handlers) is in ``RUNS_UNTIL_STOPPED`` (``import-cdr`` with ``--follow``: it waits only with
    it)."""
    groups = {"web": "web", "branch": "branch", "call_center": "call-center", "legacy": "legacy"}
    waiting = set()
    for cli in [*REPO.glob("adapters/*/cli.py"), REPO / "adapters/branch/agent/cli.py"]:
        tree = ast.parse(cli.read_text())
        for function in [node for node in tree.body if isinstance(node, ast.FunctionDef)]:
            names = {getattr(node, "id", getattr(node, "attr", None)) for node in ast.walk(function)}
            named = [d for d in function.decorator_list if isinstance(d, ast.Call) and d.args]
            if not named or not names & {"serve_until_signalled", "stop_on_signals", "_run"}:
                continue
            command = named[0].args[0].value  # type: ignore[attr-defined]
            group = ("counter-agent",) if cli.parent.name == "agent" else ("adapter", groups[cli.parent.name])
            waiting.add((*group, command))
    assert waiting == {tuple(word for word in command if not word.startswith("-"))
                       for command in RUNS_UNTIL_STOPPED if command[0] in ("adapter", "counter-agent")}
    assert ("adapter", "call-center", "import-cdr", "--follow") in RUNS_UNTIL_STOPPED


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
    assert lines[-1]["component"] == "kpis", err[-3000:]  # before its settings load too: from its words


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

    for raised in (SystemExit(1), NotReady("Producer service not yet started")):
        monkeypatch.setattr(early_stop, "PROCESS", early_stop.StopState(signalled_while_starting=True))
        with pytest.raises(SystemExit) as ended, worker_exit.fatal_errors_exit(App(), Worker()):  # type: ignore[arg-type]
            raise raised
        assert ended.value.code == 0
        assert early_stop.STOPPED_WHILE_STARTING in capsys.readouterr().err
    monkeypatch.setattr(early_stop, "PROCESS", early_stop.StopState())  # the worker was ready: a crash
    with pytest.raises(SystemExit) as ended, worker_exit.fatal_errors_exit(App(), Worker()):  # type: ignore[arg-type]
        raise SystemExit(1)
    assert ended.value.code == worker_exit.WORKER_CRASHED_EXIT
    assert "the worker crashed: NotReady" in capsys.readouterr().err


def test_a_signal_is_noted_as_while_starting_until_the_first_recovery_completed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    from types import SimpleNamespace

    monkeypatch.setattr(early_stop, "PROCESS", early_stop.StopState())
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


# Each command that runs until stopped but a processor's, with the settings it needs to start, on a broker (and a
# branch adapter) that does not answer: its start waits there. ``after_s``: the seconds after its first line at which
# it is still starting whatever the load (a poll with no pollers, a counter agent, start in less).
AGENT = {"OMNIBUS_ADAPTER_COUNTER_AGENT__ADAPTER_URL": "http://{broker}", "OMNIBUS_ADAPTER_COUNTER_AGENT__TOKEN": "t",
         "OMNIBUS_ADAPTER_COUNTER_AGENT__TERMINAL_ID": "T-1", "OMNIBUS_ADAPTER_COUNTER_AGENT__BRANCH_ID": "B-1"}
WEB = {"OMNIBUS_ADAPTER_WEB__WRITE_KEYS": '{{"portal": "k"}}'}
STARTING: dict[str, tuple[list[str], dict[str, str], tuple[float, ...]]] = {
    "web": (["omnibus", "adapter", "web", "run", "--port", "0"], WEB, (0.0, 1.5)),
    "web --workers 2": (["omnibus", "adapter", "web", "run", "--port", "0", "--workers", "2"], WEB, (0.0, 1.5)),
    "branch": (["omnibus", "adapter", "branch", "run", "--port", "0"], {}, (0.0, 1.5)),
    "call-center": (["omnibus", "adapter", "call-center", "run", "--port", "0"],
                    {"OMNIBUS_ADAPTER_CALL_CENTER__SITES": '{{"lyon": {{"access_keys": ["k1"]}}}}'}, (0.0, 1.5)),
    "legacy relay": (["omnibus", "adapter", "legacy", "relay"], {}, (0.0, 1.5)),
    "legacy poll": (["omnibus", "adapter", "legacy", "poll"], {}, (0.0,)),
    "counter-agent": (["omnibus", "counter-agent", "run"], AGENT, (0.0,)),
    "counter-agent alone": (["adapters.branch.agent", "run"], AGENT, (0.0,)),
    "import-cdr --follow": (["omnibus", "adapter", "call-center", "import-cdr", "Master.csv", "--site", "lyon",
                             "--follow"],
                            {"OMNIBUS_ADAPTER_CALL_CENTER__SITES": '{{"lyon": {{"access_keys": ["k"]}}}}'}, (0.0, 1.5)),
}
COMPONENTS = {"web": "adapter.web", "web --workers 2": "adapter.web", "branch": "adapter.branch",
              "call-center": "adapter.call_center", "legacy relay": "adapter.legacy", "legacy poll": "adapter.legacy",
              "counter-agent": "counter-agent", "counter-agent alone": "counter-agent",
              "import-cdr --follow": "adapter.call_center"}


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize(("command", "after_s"), [(name, after_s) for name, (_, _, times) in sorted(STARTING.items())
                                                  for after_s in times])
def test_an_adapter_sent_sigterm_while_it_starts_stops_with_one_line_and_status_0(
        hanging_broker: str, tmp_path: Path, command: str, after_s: float) -> None:
    """Processors stopped while starting said so and exited 0; ``omnibus adapter <channel> run``, the legacy relay
    and ``counter-agent run`` sent SIGTERM as they started exited 143 with an empty log (or 124 after waiting 40 s
    for Kafka). Now the same line and status 0, from the command's first line until it serves."""
    argv, own, _ = STARTING[command]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": hanging_broker,
           "OMNIBUS_METRICS__PORT": "0", "XDG_STATE_HOME": str(tmp_path),
           "OMNIBUS_ADAPTER_COUNTER_AGENT__JOURNAL_PATH": str(tmp_path / "journal.sqlite"),
           **{name: value.format(broker=hanging_broker) for name, value in own.items()}}
    (tmp_path / "Master.csv").write_text("")  # the file ``import-cdr --follow`` reads
    started = subprocess.Popen([sys.executable, "-m", *argv], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while started.poll() is None and not _catches_sigterm(started.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(after_s)
        assert started.poll() is None, started.communicate()
        started.send_signal(signal.SIGTERM)
        _, err = started.communicate(timeout=60)
    finally:
        if started.poll() is None:
            started.kill()
    assert started.returncode == 0, err[-3000:]
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert lines and lines[-1]["event"] == early_stop.STOPPED_WHILE_STARTING, err[-3000:]
    assert lines[-1]["level"] == "info" and "Traceback" not in err
    assert all(line.get("component") == COMPONENTS[command] for line in lines), err[-3000:]


@pytest.fixture
def early_handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``early_stop.install`` in this process, undone after the test: SIGTERM's handler, the unraisable hook and the
    process's stop state as they were."""
    monkeypatch.setattr(early_stop, "PROCESS", early_stop.StopState())
    handler, hook = signal.getsignal(signal.SIGTERM), sys.unraisablehook
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, handler)
        sys.unraisablehook = hook


def _wait_for_the_stop(seconds: float = 10.0) -> None:
    """Ordinary code running: where a SIGTERM sent again raises."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.01)


class _Collected:
    """An object whose collection runs code: ``__del__`` and a weakref callback each send SIGTERM as they run."""

    def __del__(self) -> None:
        if _Collected.in_del:
            signal.raise_signal(signal.SIGTERM)  # its handler runs here, inside ``__del__``

    in_del = False


@pytest.mark.parametrize("where", ["weakref callback", "__del__"])
def test_a_sigterm_whose_exception_python_drops_in_a_callback_still_stops_the_start(
        early_handler: None, where: str) -> None:
    """A user: ``offers run`` sent SIGTERM 4.5 s after its start printed "Exception ignored in: <function
    WeakSet...._remove> ... SystemExit: 0", became ready and ran 12 more minutes, the SIGTERM lost. An exception a
    signal handler raises inside a weakref callback or a ``__del__`` is dropped by Python: the signal is sent again and
    the start stops, without the traceback."""
    early_stop.install()
    collected = _Collected()
    refs = []
    if where == "weakref callback":
        refs.append(weakref.ref(collected, lambda _: signal.raise_signal(signal.SIGTERM)))
    else:
        _Collected.in_del = True
    try:
        with pytest.raises(SystemExit) as stopped:
            del collected  # the callback runs: the handler's exception is dropped there
            _wait_for_the_stop()
    finally:
        _Collected.in_del = False
    assert stopped.value.code == early_stop.STOPPED_WHILE_STARTING_EXIT and early_stop.stopped_early()


def test_a_sigterm_taken_but_lost_is_sent_to_the_handler_that_takes_over(early_handler: None) -> None:
    """A SIGTERM the start's handler took whose exception never reached ``stopped_cleanly`` (dropped where no hook hears
    of it) goes to the command's own handler once it is set (``handed_over``); none is sent otherwise."""
    heard: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: heard.append(signum))
    early_stop.handed_over()
    _wait_for_the_stop(0.2)
    assert heard == []
    early_stop.PROCESS.signalled_early = True
    early_stop.handed_over()
    _wait_for_the_stop(0.2)
    assert heard == [signal.SIGTERM]
    early_stop.PROCESS.stopping = True  # the early stop was taken: the process is exiting
    early_stop.handed_over()
    _wait_for_the_stop(0.2)
    assert heard == [signal.SIGTERM]


def test_faust_setting_its_handler_takes_over_a_lost_sigterm(early_handler: None) -> None:
    """``bus.app.arm_stop_deadline``: once faust's worker sets its signal handlers, a SIGTERM lost while it started is
    sent to them (``early_stop.handed_over``)."""
    from types import SimpleNamespace

    from bus.app import arm_stop_deadline

    heard: list[int] = []
    worker = SimpleNamespace(
        _schedule_shutdown=lambda signum: None,
        install_signal_handlers=lambda: signal.signal(signal.SIGTERM, lambda signum, frame: heard.append(signum)))
    arm_stop_deadline(worker, SimpleNamespace(crash=None, consumer=None))  # type: ignore[arg-type]
    early_stop.PROCESS.signalled_early = True
    worker.install_signal_handlers()
    _wait_for_the_stop(0.2)
    assert heard == [signal.SIGTERM]


CHURN = """
import sys, time
from bus import early_stop

class Collected:
    def __del__(self):  # most of the time goes here: where a handler's exception is dropped
        began = time.monotonic()
        while time.monotonic() - began < 0.005:
            pass

with early_stop.stopped_cleanly():
    early_stop.install()
    print("started", flush=True)
    while True:
        Collected()
"""


@pytest.mark.parametrize("after_s", [0.0, 0.05, 0.13, 0.3, 0.55, 0.8])
def test_a_start_sent_sigterm_at_any_moment_never_runs_on(tmp_path: Path, after_s: float) -> None:
    """A start that spends its time in ``__del__`` (where Python drops a handler's exception), sent SIGTERM at
    several moments: it always stops, with the line and status 0, and no "Exception ignored" traceback."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = subprocess.Popen([sys.executable, "-c", CHURN], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert started.stdout is not None and started.stdout.readline() == "started\n"
        time.sleep(after_s)
        started.send_signal(signal.SIGTERM)
        _, err = started.communicate(timeout=30)
    finally:
        if started.poll() is None:
            started.kill()
    assert started.returncode == 0, err[-3000:]
    assert early_stop.STOPPED_WHILE_STARTING in err and "Exception ignored" not in err, err[-3000:]


# A start whose SIGTERM cut an import short: importing the logging fails now (``sys.modules`` entry None).
IMPORT_CUT_SHORT = """
import signal, sys
sys.modules["structlog"] = None  # as ``asyncio`` half imported made it fail: NameError in asyncio/__init__
from bus import early_stop
with early_stop.while_starting(["kpis", "run"], {("kpis", "run"): "kpis"}):
    signal.raise_signal(signal.SIGTERM)
"""


def test_the_early_line_is_written_when_the_signal_cut_an_import_short(tmp_path: Path) -> None:
    """Sent SIGTERM 5 s after its start, ``kpis run`` exited 1 with a traceback, 1 run in 10: the signal had cut the
    import of ``asyncio`` short, and the line's own import of the logging failed on it. Before the command configured
    its logging the line is written without importing it: the same JSON line, status 0."""
    from bus.logging import COMPONENT_KEY

    done = subprocess.run([sys.executable, "-c", IMPORT_CUT_SHORT], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0 and len(done.stderr.splitlines()) == 1, done.stderr[-3000:]
    line = json.loads(done.stderr)
    assert line.pop("timestamp").endswith("Z") and early_stop.COMPONENT_KEY == COMPONENT_KEY
    assert line == {"component": "kpis", "event": early_stop.STOPPED_WHILE_STARTING, "level": "info",
                    "logger": "bus.early_stop"}

"""One process bootstrap: every long-running command with a bad setting exits 2 with one line, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from omnibus.cli import app
from tests.support.ports import metrics_port_taken

REPO = Path(__file__).resolve().parents[2]
LONG_RUNNING = {"run", "relay", "poll"}
# The counter agent runs on a terminal without the core settings: only its own are checked.
OWN_PREFIX = {
    "identity run": "OMNIBUS_PROCESSOR_IDENTITY__", "handoffs run": "OMNIBUS_PROCESSOR_HANDOFFS__",
    "adapter web run": "OMNIBUS_ADAPTER_WEB__", "adapter branch run": "OMNIBUS_ADAPTER_BRANCH__",
    "adapter call-center run": "OMNIBUS_ADAPTER_CALL_CENTER__", "adapter legacy relay": "OMNIBUS_ADAPTER_LEGACY__",
    "adapter legacy poll": "OMNIBUS_ADAPTER_LEGACY__", "counter-agent run": "OMNIBUS_ADAPTER_COUNTER_AGENT__",
    "kpis run": "OMNIBUS_PROCESSOR_KPIS__", "offers run": "OMNIBUS_PROCESSOR_OFFERS__",
}


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            found += _commands(command, (*prefix, name))
        elif name in LONG_RUNNING:
            found.append((*prefix, name))
    return found


RUN_COMMANDS = _commands(typer.main.get_command(app))


def test_every_run_command_is_covered() -> None:
    assert {" ".join(command) for command in RUN_COMMANDS} == set(OWN_PREFIX)


def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("OMNIBUS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("OMNIBUS_STACK_DIR", str(tmp_path / "no-stack"))


def _assert_one_line_exit_2(result: object) -> None:
    output = result.output.strip()  # type: ignore[attr-defined]
    assert result.exit_code == 2, output  # type: ignore[attr-defined]
    assert "Traceback" not in output and "╭" not in output, output
    lines = output.splitlines()
    assert len(lines) == 1, output


@pytest.mark.parametrize("command", RUN_COMMANDS, ids=" ".join)
def test_a_misspelt_own_setting_exits_2_with_one_line(
    command: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _clean_env(monkeypatch, tmp_path)
    variable = f"{OWN_PREFIX[' '.join(command)]}NO_SUCH_SETTING"
    monkeypatch.setenv(variable, "1")
    result = CliRunner().invoke(app, list(command))
    _assert_one_line_exit_2(result)
    assert variable in result.output


@pytest.mark.parametrize("command", [c for c in RUN_COMMANDS if c[0] != "counter-agent"], ids=" ".join)
def test_an_invalid_core_setting_exits_2_with_one_line(
    command: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("OMNIBUS_KAFKA__SECURITY_PROTOCOL", "TLS")
    result = CliRunner().invoke(app, list(command))
    _assert_one_line_exit_2(result)
    assert "kafka.security_protocol" in result.output and "'TLS'" in result.output


def test_the_installed_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    """The issue's sample: ``handoffs run`` with a bad setting printed a traceback."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMNIBUS_")}
    env |= {"PYTHONPATH": str(REPO), "OMNIBUS_STACK_DIR": str(tmp_path), "OMNIBUS_PROCESSOR_HANDOFFS__TYPO": "1"}
    result = subprocess.run([sys.executable, "-m", "omnibus", "handoffs", "run"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "OMNIBUS_PROCESSOR_HANDOFFS__TYPO" in result.stderr


def test_a_tls_file_that_cannot_be_read_is_a_bad_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("OMNIBUS_KAFKA__SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("OMNIBUS_KAFKA__SSL_CAFILE", str(tmp_path / "missing-ca.pem"))
    monkeypatch.setenv("OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY", "test-only-hmac-key-of-some-length")
    result = CliRunner().invoke(app, ["identity", "run"])
    _assert_one_line_exit_2(result)
    assert "TLS files" in result.output


def test_a_bad_identifier_setting_breaks_no_help_and_never_prints_the_secret(tmp_path: Path) -> None:
    """Found by a new user: settings read at import broke ``omnibus --help``, and the key was echoed."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMNIBUS_")}
    env.update({"OMNIBUS_IDENTIFIERS__HMAC_KEY": "short-secret", "OMNIBUS_STACK_DIR": str(tmp_path / "no-stack"),
                "PYTHONPATH": str(REPO)})
    command = [sys.executable, "-c", "from omnibus.cli import main; main()"]
    shown = subprocess.run([*command, "--help"], env=env, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    run = subprocess.run([*command, "adapter", "web", "run", "--port", "0"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error:") and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "short-secret" not in run.stderr + run.stdout


# Every port 0: a default port (6066, 6067, 8080) may be held by another run on the machine, and the command would
# then exit 2 for the port before it tries Kafka.
UNREACHABLE_ENV = {
    "identity run": {"OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY": "test-only-hmac-key-of-some-length",
                     "OMNIBUS_PROCESSOR_IDENTITY__WEB_PORT": "0"},
    "handoffs run": {}, "kpis run": {}, "offers run": {"OMNIBUS_PROCESSOR_OFFERS__WEB_PORT": "0"},
    "adapter branch run": {"OMNIBUS_ADAPTER_BRANCH__PORT": "0"}, "adapter legacy relay": {},
    "adapter web run": {"OMNIBUS_ADAPTER_WEB__PORT": "0", "OMNIBUS_ADAPTER_WEB__WRITE_KEYS": '{"wk": "web"}'},
    "adapter call-center run": {"OMNIBUS_ADAPTER_CALL_CENTER__SITES": '{"lyon": {"access_keys": ["k1"]}}',
                                "OMNIBUS_ADAPTER_CALL_CENTER__PORT": "0"},
}


# One-shot commands that read or write Kafka (new-user finding #13: after ``identity review list``'s error line
# came a JSON log line, aiokafka's held-back repeat count).
ONE_SHOT_UNREACHABLE_ENV = {
    "identity review list": UNREACHABLE_ENV["identity run"], "report kpis --from 2026-11-30 --to 2026-12-01": {},
    "report handoffs --month 2026-11": {}, "verify": UNREACHABLE_ENV["identity run"], "topics apply": {},
    "offers list": {},
}


@pytest.mark.parametrize("commands", [UNREACHABLE_ENV, ONE_SHOT_UNREACHABLE_ENV], ids=["run", "one-shot"])
def test_a_broker_that_cannot_be_reached_is_one_line_and_status_69(tmp_path: Path, commands: dict) -> None:
    """Found by a new user: ``adapter web run`` with no broker printed a 170-line traceback; the faust workers
    buried the cause among their shutdown lines and exited 1. Every long-running command that talks to Kafka
    at start-up (all but the counter agent, which buffers, and the poller, which needs PostgreSQL first), and the
    one-shot commands that do; the error is the last line."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("OMNIBUS_")}
    base |= {"PYTHONPATH": str(REPO), "OMNIBUS_STACK_DIR": str(tmp_path / "no-stack"), "OMNIBUS_METRICS__PORT": "0",
             "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    running = {name: subprocess.Popen([sys.executable, "-m", "omnibus", *name.split()], env=base | extra, cwd=tmp_path,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name, extra in commands.items()}
    try:
        answers = {name: process.communicate(timeout=120)[1] for name, process in running.items()}
    finally:
        for process in running.values():  # one that does not exit within the bound is never left running
            if process.poll() is None:
                process.kill()
                process.communicate()
    for name, process in running.items():
        stderr = answers[name]
        assert process.returncode == 69, (name, stderr[-2000:])
        assert "Traceback" not in stderr and "╭" not in stderr, (name, stderr[-2000:])
        assert stderr.splitlines()[-1].startswith("error: cannot reach Kafka"), (name, stderr[-2000:])


def test_a_taken_metrics_port_exits_2_naming_the_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A new user's second worker on the default metrics port: the line says which variable to change."""
    _clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__HMAC_KEY", "k" * 32)
    with metrics_port_taken(monkeypatch):
        result = CliRunner().invoke(app, ["identity", "run"])
    _assert_one_line_exit_2(result)
    assert "OMNIBUS_METRICS__PORT" in result.output and "metrics endpoint" in result.output


@pytest.mark.kafka
def test_a_registry_that_cannot_be_reached_is_one_line_and_status_69(bootstrap_servers: str, tmp_path: Path) -> None:
    """tester9 #3: ``topics read``, ``identity review list`` and ``replay kpis`` printed a 390-line traceback when the
    registry was down; a record framed with a registry schema id makes each of them ask it."""
    import asyncio

    from aiokafka import AIOKafkaProducer

    from bus.topics import IDENTITY_REVIEWS
    from tests.support.settings import settings_with_topics

    settings = asyncio.run(settings_with_topics(bootstrap_servers, partitions=1))
    topic = IDENTITY_REVIEWS.name(settings.topics)

    async def put_framed_record() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"\x00\x00\x00\x00\x07" + b"\x02", key=b"k")  # Confluent framing, id 7
        finally:
            await producer.stop()

    asyncio.run(put_framed_record())
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMNIBUS_")}
    env |= {"PYTHONPATH": str(REPO), "OMNIBUS_STACK_DIR": str(tmp_path / "no-stack"),
            "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": settings.topics.prefix,
            "OMNIBUS_REGISTRY__URL": "http://127.0.0.1:1/apis/ccompat/v7", "OMNIBUS_REGISTRY__TIMEOUT_S": "2"}
    for command in (["topics", "read", topic, "--last", "1"], ["identity", "review", "list"]):
        result = subprocess.run([sys.executable, "-m", "omnibus", *command], env=env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 69, (command, result.stderr[-2000:])
        assert "Traceback" not in result.stderr, (command, result.stderr[-2000:])
        last = result.stderr.splitlines()[-1]
        assert last.startswith("error: schema registry at") and "OMNIBUS_REGISTRY__URL" in last, (command, last)


@pytest.mark.parametrize("command", sorted(UNREACHABLE_ENV), ids=str)
def test_every_long_running_command_on_a_taken_metrics_port_exits_2_naming_port_and_setting(
    command: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """tester13 S4: ``adapter legacy relay``, ``adapter web run``, ``adapter call-center run`` (everything served by
    ``adapters.base.runtime``) ended in ``OSError: [Errno 98] Address already in use``, a traceback and status 1.
    The port is bound before Kafka is asked, so no broker is needed to see it."""
    _clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("OMNIBUS_ADAPTER_LEGACY__STATE_DIR", str(tmp_path / "legacy"))
    for name, value in UNREACHABLE_ENV[command].items():
        monkeypatch.setenv(name, value)
    with metrics_port_taken(monkeypatch) as port:
        result = CliRunner().invoke(app, command.split())
    _assert_one_line_exit_2(result)
    assert result.output.startswith("error: metrics endpoint 127.0.0.1:" + port), result.output
    assert "OMNIBUS_METRICS__PORT" in result.output


@pytest.mark.parametrize("situation", ["variable set", "stack recorded, broker down", "nothing recorded"])
def test_tester30_f11_a_kafka_connection_failure_says_where_kafka_was_looked_for(
    situation: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the local stack's broker down (or in a shell outside the checkout) a command fell back to the default
    address and asked whether ``OMNIBUS_KAFKA__BOOTSTRAP_SERVERS`` was right: a variable the user never set."""
    import json

    from bus.bootstrap import KAFKA_UNAVAILABLE_EXIT, startup_failure_exit
    from bus.config import BOOTSTRAP_SERVERS_VARIABLE

    monkeypatch.setenv("OMNIBUS_STACK_DIR", str(tmp_path))
    monkeypatch.delenv(BOOTSTRAP_SERVERS_VARIABLE, raising=False)
    if situation == "variable set":
        monkeypatch.setenv(BOOTSTRAP_SERVERS_VARIABLE, "broker.example:9092")
    if situation == "stack recorded, broker down":
        (tmp_path / "stack.json").write_text(json.dumps({"kafka": {"pid": 2**22 + 7, "marker": "gone", "port": 1},
                                                         "stopped": True}))
    from aiokafka.errors import KafkaConnectionError

    with pytest.raises(SystemExit) as exited, startup_failure_exit():
        raise KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 9092, <AddressFamily.AF_INET: 2>)]")
    assert exited.value.code == KAFKA_UNAVAILABLE_EXIT
    expected = {"variable set": f"is {BOOTSTRAP_SERVERS_VARIABLE} right?",
                "stack recorded, broker down": f"local stack recorded in {tmp_path / 'stack.json'} is not running: "
                                               "start it with 'omnibus stack up'",
                "nothing recorded": "run 'omnibus stack up', or set OMNIBUS_STACK_DIR"}[situation]
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("error: cannot reach Kafka (") and expected in last, last


@pytest.mark.parametrize("situation", ["variable set", "stack's registry down", "no registry recorded"])
def test_a_registry_that_does_not_answer_says_which_one_and_how_to_bring_it_back(
    situation: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reported: ``omnibus handoffs acknowledge`` during an outage of the local stack's registry blamed
    ``OMNIBUS_REGISTRY__URL is unset``. A command on the stack uses its recorded registry also while it is down
    (``bus.stack.local.local_endpoints``); the line says that registry does not answer and how to bring it back."""
    import json

    from bus.bootstrap import KAFKA_UNAVAILABLE_EXIT, startup_failure_exit
    from bus.config import REGISTRY_URL_VARIABLE
    from bus.errors import SchemaRegistryError

    monkeypatch.setenv("OMNIBUS_STACK_DIR", str(tmp_path))
    monkeypatch.delenv(REGISTRY_URL_VARIABLE, raising=False)
    if situation == "variable set":
        monkeypatch.setenv(REGISTRY_URL_VARIABLE, "http://registry.example:8081")
    registry = {"pid": 2**22 + 8, "marker": "gone", "port": 2, "url": "http://127.0.0.1:2/apis/ccompat/v7"}
    (tmp_path / "stack.json").write_text(json.dumps({
        "kafka": {"pid": 2**22 + 7, "marker": "gone", "port": 1, "bootstrap_servers": "127.0.0.1:1"},
        "registry": None if situation == "no registry recorded" else registry}))

    with pytest.raises(SystemExit) as exited, startup_failure_exit():
        raise SchemaRegistryError("schema registry at http://127.0.0.1:2 unreachable: refused", retriable=True)
    assert exited.value.code == KAFKA_UNAVAILABLE_EXIT
    expected = {"variable set": f"is the registry running, and is {REGISTRY_URL_VARIABLE} right?",
                "stack's registry down": f"the schema registry of the local stack recorded in "
                                         f"{tmp_path / 'stack.json'} does not answer: 'omnibus stack up' brings",
                "no registry recorded": f"is {REGISTRY_URL_VARIABLE} right?"}[situation]
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("error: schema registry at") and expected in last, last
    assert "unset" not in last, last


@pytest.mark.parametrize(("logged_as", "metrics_of", "component"), [
    ("adapter.web", None, "adapter.web"),  # an adapter: its runtime serves its metrics
    (None, "kpis", "kpis"),  # a processor: the component its metrics are of
    (None, None, None),  # a command of no component
])
def test_every_line_of_a_started_process_names_its_component(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], logged_as: str | None,
        metrics_of: str | None, component: str | None) -> None:
    """New-user sample: an adapter's ``adapter listening`` line named no adapter, where the metrics line beside it said
    ``"component": "adapter.web"``; a process's lines all name the component it runs, bound once at its start."""
    import json
    import logging

    import structlog

    from bus import shutdown
    from bus.bootstrap import start_process
    from bus.config import OmnibusSettings
    from bus.logging import LIBRARY_LOGGERS, bind_component, get_logger

    monkeypatch.setattr(shutdown, "_process_deadline", None)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        start_process(lambda _: None, settings=lambda: OmnibusSettings(metrics={"enabled": False}),  # type: ignore[arg-type]
                      metrics_of=metrics_of, logged_as=logged_as)
        get_logger("any.module").info("a line")
    finally:
        bind_component(None)
        root.handlers[:] = handlers
        root.setLevel(level)
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)
        structlog.reset_defaults()
    (line,) = [json.loads(text) for text in capsys.readouterr().err.splitlines() if '"a line"' in text]
    assert line.get("component") == component

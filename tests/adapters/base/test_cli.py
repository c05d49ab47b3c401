from __future__ import annotations

import contextlib
import types
from collections.abc import AsyncIterator

import pytest

from adapters.base.cli import FileReport, exit_interrupted
from adapters.base.errors import Misconfigured, Unavailable
from adapters.call_center.ingress_file import ImportReport
from adapters.legacy.ingress_batch import BatchReport
from bus import shutdown
from bus.bootstrap import BAD_SETTINGS_EXIT, KAFKA_UNAVAILABLE_EXIT
from bus.errors import MissingTopicError


@pytest.mark.parametrize("report", [BatchReport("c" * 64, lines=1500, published_events=1500),
                                    ImportReport(lines=1500, published_events=1500)], ids=["import-batch", "import-cdr"])
def test_tester15_f13_an_import_kafka_stopped_acknowledging_ends_in_its_summary_one_error_line_and_69(
    report: FileReport, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """tester15 F13: a Rich traceback and exit 1, no summary. Now what was published, one line, and 69; import-batch
    and import-cdr alike (one helper since tidy: import-cdr's message did not name its file)."""
    exits: list[int] = []
    monkeypatch.setattr(shutdown, "_process_deadline", shutdown.StopDeadline(60, exit=exits.append))

    with pytest.raises(SystemExit) as exited:
        exit_interrupted("big3.csv", report, Unavailable("Kafka did not acknowledge within 600 s", retry_after_s=5), 600)
    out, err = capsys.readouterr()
    assert exited.value.code == KAFKA_UNAVAILABLE_EXIT == 69
    assert out == "big3.csv: 1500 lines, 1500 events published, 0 duplicates, 0 rejected (interrupted)\n"
    assert err.startswith("error: Kafka did not acknowledge within 600 s") and err.count("\n") == 1
    assert "run the same command again to resume big3.csv" in err
    deadline = shutdown.current()
    assert deadline is not None and deadline.armed  # a flush to a broker that does not answer is bounded ...
    deadline.expire()
    assert exits == [KAFKA_UNAVAILABLE_EXIT]  # ... and still ends in 69
    deadline.disarm()


def test_tester24_f8_an_import_whose_topic_is_missing_ends_in_its_summary_one_error_line_and_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """tester24 F8: a topic gone while importing waited 600 s and ended with 69 ("Kafka cannot be reached"). Now the
    summary, one line naming the topic and ``omnibus topics apply``, and 2 (configuration), a stop deadline included."""
    exits: list[int] = []
    monkeypatch.setattr(shutdown, "_process_deadline", shutdown.StopDeadline(60, exit=exits.append))
    reason = str(MissingTopicError(["staging.business.events.v1"]))

    with pytest.raises(SystemExit) as exited:
        exit_interrupted("accounts.csv", BatchReport("c" * 64, lines=5, published_events=0),
                         Misconfigured(reason, retry_after_s=5), 600)
    out, err = capsys.readouterr()
    assert exited.value.code == BAD_SETTINGS_EXIT == 2
    assert out == "accounts.csv: 5 lines, 0 events published, 0 duplicates, 0 rejected (interrupted)\n"
    assert err.startswith("error: topic staging.business.events.v1 does not exist: run `omnibus topics apply`")
    assert err.count("\n") == 1 and "GIVE_UP_AFTER_S" not in err and "600" not in err
    deadline = shutdown.current()
    assert deadline is not None and deadline.armed
    deadline.expire()
    assert exits == [BAD_SETTINGS_EXIT]
    deadline.disarm()


def test_f5_an_adapter_logs_at_start_up_the_defaults_a_setting_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """F5 (session 20): setting one web identifier trait removed the e-mail and phone traits without a word."""
    from structlog.testing import capture_logs

    from adapters.base import cli
    from adapters.web.config import ENV_PREFIX, WebSettings
    from bus.logging import get_logger

    monkeypatch.setattr(cli, "log", get_logger(cli.__name__))  # a new lazy logger, first used inside capture_logs
    with capture_logs() as lines:
        cli.log_replaced_defaults(WebSettings(identifier_traits={"CUSTOMER_NUMBER": ("customerNumber",)}), ENV_PREFIX)
        cli.log_replaced_defaults(WebSettings(identifier_traits="+{}"), ENV_PREFIX)  # type: ignore[arg-type]
    (line,) = lines
    assert line["log_level"] == "warning" and line["setting"] == "OMNIBUS_ADAPTER_WEB__IDENTIFIER_TRAITS"
    assert line["left_out"][:2] == ["EMAIL", "PHONE"]
    assert "leading '+' to add to the default" in line["event"]


async def test_tester30_f1_a_port_that_cannot_be_bound_is_one_error_line_naming_its_setting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A taken port ended the web adapter in a rich traceback (``OSError: [Errno 98] ...``) instead of one line that
    says which setting to change, as the processors' taken web port does (``bus.app.check_web_port``)."""
    import socket

    from aiohttp import web

    from adapters.base.cli import serve_until_signalled

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]

    @contextlib.asynccontextmanager
    async def running() -> AsyncIterator[object]:
        runner = web.AppRunner(web.Application())
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", port).start()
            yield types.SimpleNamespace(port=port)
        finally:
            await runner.cleanup()

    try:
        with pytest.raises(SystemExit) as exited:
            await serve_until_signalled(running(), "web hall", port_setting="OMNIBUS_X__PORT")
    finally:
        taken.close()
    assert exited.value.code == BAD_SETTINGS_EXIT
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines[-1].startswith("error: web hall: cannot listen (") and "set OMNIBUS_X__PORT" in lines[-1]
    assert str(port) in lines[-1]


def test_an_import_the_registry_did_not_answer_ends_in_69_saying_how_to_bring_it_back(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: pytest.TempPathFactory,
) -> None:
    """An import on ``omnibus stack`` while its registry is down waits as for a broker outage, then ends in 69; its
    line names the registry and ``omnibus stack up`` (it said only "schema registry unavailable")."""
    import json
    from pathlib import Path

    from bus.errors import SchemaRegistryError

    state = Path(str(tmp_path))
    (state / "stack.json").write_text(json.dumps({"registry": {"url": "http://127.0.0.1:2/apis/ccompat/v7"}}))
    monkeypatch.setenv("OMNIBUS_STACK_DIR", str(state))
    monkeypatch.delenv("OMNIBUS_REGISTRY__URL", raising=False)
    monkeypatch.setattr(shutdown, "_process_deadline", shutdown.StopDeadline(60, exit=lambda code: None))
    error = Unavailable("schema registry unavailable", retry_after_s=5)
    error.__cause__ = SchemaRegistryError("schema registry at http://127.0.0.1:2 unreachable", retriable=True)

    with pytest.raises(SystemExit) as exited:
        exit_interrupted("overdue.txt", BatchReport("c" * 64, lines=0, published_events=0), error, 20)
    err = capsys.readouterr().err
    assert exited.value.code == KAFKA_UNAVAILABLE_EXIT
    assert err.startswith("error: schema registry unavailable (tried again for 20 s, OMNIBUS_PRODUCER__GIVE_UP_AFTER_S")
    assert "does not answer: 'omnibus stack up' brings it back" in err and err.count("\n") == 1, err
    assert "run the same command again to resume overdue.txt" in err
    deadline = shutdown.current()
    assert deadline is not None
    deadline.disarm()

"""``omnibus counter-agent enqueue | status``: the terminal software's local API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.branch.agent.cli import app

runner = CliRunner()
ISSUED = {"kind": "ticket_issued", "occurred_at": "2024-05-02T09:14:03+02:00",
          "ticket": {"number": "A042", "service_type": "payments", "issued_at": "2024-05-02T09:14:03+02:00"}}


def test_enqueue_prints_event_ids_once_recorded_and_status_counts_them(tmp_path: Path) -> None:
    journal = str(tmp_path / "journal.sqlite3")
    one = runner.invoke(app, ["enqueue", json.dumps({**ISSUED, "event_id": "e-1"}), "--journal", journal])
    assert (one.exit_code, one.stdout.strip()) == (0, "e-1")
    lines = "\n".join(json.dumps(ISSUED) for _ in range(3))
    many = runner.invoke(app, ["enqueue", "-", "--journal", journal], input=lines)
    assert many.exit_code == 0 and len(many.stdout.split()) == 3
    status = runner.invoke(app, ["status", "--journal", journal])
    assert json.loads(status.stdout)["counts"] == {"pending": 4, "sent": 0, "rejected": 0}


def test_enqueue_refuses_an_event_the_adapter_would_refuse(tmp_path: Path) -> None:
    journal = str(tmp_path / "journal.sqlite3")
    result = runner.invoke(app, ["enqueue", json.dumps({**ISSUED, "kind": "coffee"}), "--journal", journal])
    assert result.exit_code == 1 and "unknown event kind" in result.output
    status = runner.invoke(app, ["status", "--journal", journal])
    assert json.loads(status.stdout)["counts"]["pending"] == 0


def test_run_without_an_adapter_address_exits_with_what_is_missing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--journal", str(tmp_path / "j.sqlite3")])
    assert result.exit_code == 2 and "OMNIBUS_ADAPTER_COUNTER_AGENT__ADAPTER_URL" in result.output


def test_every_line_of_the_counter_agent_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``omnibus counter-agent`` set no component: its lines (uploads, refusals, an early stop) named none, where every
    adapter's name theirs."""
    import logging

    import structlog

    from adapters.branch.agent import COMPONENT
    from bus.logging import LIBRARY_LOGGERS, bind_component, configure_logging, get_logger

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("INFO")
        assert runner.invoke(app, ["status", "--journal", str(tmp_path / "j.sqlite3")]).exit_code == 0
        get_logger("adapters.branch.agent.uploader").info("batch uploaded")
        (line,) = [json.loads(text) for text in capsys.readouterr().err.splitlines() if text.startswith("{")]
    finally:
        bind_component(None)
        root.handlers[:] = handlers
        root.setLevel(level)
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)
        structlog.reset_defaults()
    assert line["event"] == "batch uploaded" and line["component"] == COMPONENT == "counter-agent"

"""The CLI commands on a replay served from memory (the broker path is in test_agent)."""

import asyncio
import json

import pytest
from typer.testing import CliRunner

from omnibus.cli import app as omnibus
from processors.handoffs import cli
from bus.replay import Replay
from tests.processors.handoffs.scenario import run_scenario


@pytest.fixture
def replay(monkeypatch: pytest.MonkeyPatch) -> None:
    events = asyncio.run(run_scenario())

    async def fake_replay(settings, spec, **_):
        return Replay(list(events), undecodable=1)

    monkeypatch.setattr(cli, "replay_topic", fake_replay)


def test_report_as_a_table_csv_and_json(replay: None) -> None:
    runner = CliRunner()
    table = runner.invoke(omnibus, ["report", "handoffs", "--month", "2026-11"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "Handoffs, 2026-11 (UTC)" in table.output and "back-office" in table.output and "30:00" in table.output
    as_csv = runner.invoke(omnibus, ["report", "handoffs", "--month", "2026-11", "--format", "csv"])
    assert as_csv.output.splitlines()[0].startswith("scope,name,received,resolved")
    as_json = json.loads(
        runner.invoke(omnibus, ["report", "handoffs", "--month", "2026-11", "--format", "json"]).output
    )
    assert as_json["month"] == "2026-11" and {r["name"] for r in as_json["rows"]} >= {"back-office", "repair"}


def test_report_refuses_a_bad_month(replay: None) -> None:
    result = CliRunner().invoke(omnibus, ["report", "handoffs", "--month", "Nov"])
    assert result.exit_code == 2 and "YYYY-MM" in result.output


def test_reconcile_lists_and_strict_fails(replay: None) -> None:
    runner = CliRunner()
    table = runner.invoke(omnibus, ["handoffs", "reconcile"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "h3" in table.output and "created, not acknowledged" in table.output
    assert "1 record(s) could not be decoded" in table.output
    strict = runner.invoke(omnibus, ["handoffs", "reconcile", "--strict", "--format", "csv"])
    assert strict.exit_code == 1 and strict.output.splitlines()[1].startswith('h3,"created, not acknowledged",')

"""``report kpis`` rows and CSV, ``replay`` argument checks, ``kpis run --help``."""

from __future__ import annotations

from datetime import timedelta

from typer.testing import CliRunner

from omnibus.cli import app as omnibus
from processors.kpis.cli import REPORT_COLUMNS, report_rows, to_csv
from processors.kpis.windows import to_micros
from processors.replay import Replayed
from tests.processors.kpis.factories import T0
from tests.processors.kpis.test_ledger import Pipeline, call


def _records() -> list[Replayed]:
    pipeline = Pipeline()
    pipeline.feed(call(T0, 5, contact_id="c1"))
    pipeline.feed(call(T0, None, contact_id="c2"))
    pipeline.feed(call(T0 + timedelta(days=1), 5, contact_id="c3"))
    return [Replayed("t", 0, n, event.value["granularity"].encode() + str(to_micros(event.value["window_start"])).encode()
                     + b"|CALL_CENTER|paris", event) for n, event in enumerate(pipeline.published)]


def test_report_keeps_the_latest_revision_of_each_window_in_range():
    rows = report_rows(_records(), T0.replace(hour=0), T0.replace(hour=0) + timedelta(days=1), None)
    assert [(r["granularity"], r["revision"], r["calls_queued"]) for r in rows] == [("DAY", 2, 2), ("HOUR", 2, 2)]
    assert report_rows(_records(), T0, T0 + timedelta(days=2), "day")[-1]["calls_queued"] == 1


def test_report_csv_has_every_count_and_kpi():
    rows = report_rows(_records(), T0, T0 + timedelta(hours=1), "HOUR")
    header, line = to_csv(rows).splitlines()
    assert header.split(",") == list(REPORT_COLUMNS)
    values = dict(zip(REPORT_COLUMNS, line.split(","), strict=True))
    assert values["service_level"] == "0.5000" and values["site"] == "paris" and values["contacts"] == "0"
    assert values["first_contact_resolution"] == ""


def test_replay_refuses_an_unknown_processor_and_run_has_help():
    result = CliRunner().invoke(omnibus, ["replay", "billing"])
    assert result.exit_code == 2 and "unknown processor" in result.output
    assert CliRunner().invoke(omnibus, ["kpis", "run", "--help"]).exit_code == 0
    assert "--from" in CliRunner().invoke(omnibus, ["report", "kpis", "--help"]).output


def test_the_report_table_keeps_one_line_per_window_when_piped(monkeypatch) -> None:
    """Found by a new user: `omnibus report kpis ... | less` folded every cell over six lines (rich's 80 columns
    when the output is not a terminal). Piped, a report gets a width no table reaches (``report_console``)."""
    from types import SimpleNamespace

    async def read(*_: object, **__: object) -> SimpleNamespace:
        return SimpleNamespace(records=_records(), undecodable=0)

    monkeypatch.setattr("processors.kpis.cli.read_topics", read)
    monkeypatch.delenv("COLUMNS", raising=False)
    start, end = T0.replace(hour=0), T0.replace(hour=0) + timedelta(days=2)
    result = CliRunner().invoke(omnibus, ["report", "kpis", "--from", start.isoformat(), "--to", end.isoformat()])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("│")]
    expected = report_rows(_records(), start, end, None)
    assert len(rows) == len(expected) >= 2  # one line per window: no cell folded onto a second line
    assert all("CALL_CENTER" in row and "paris" in row for row in rows)
    header = next(line for line in result.output.splitlines() if line.startswith("┃"))
    assert "service level" in header and "offer acceptance" in header


def test_a_reversed_or_empty_range_is_refused_before_kafka_is_read(monkeypatch) -> None:
    """A new user's reversed ``--from``/``--to`` went on to read Kafka; now it exits 2 with the reason at once."""
    from processors.kpis import cli

    def no_kafka(*_, **__):
        raise AssertionError("Kafka was read")

    monkeypatch.setattr(cli, "read_topics", no_kafka)
    for start, end in (("2026-12-01", "2026-11-30"), ("2026-11-30", "2026-11-30")):
        result = CliRunner().invoke(omnibus, ["report", "kpis", "--from", start, "--to", end])
        assert result.exit_code == 2 and "is not before --to" in result.output, result.output


def test_open_handoffs_of_a_window_that_has_not_ended_read_pending(monkeypatch) -> None:
    """Open handoffs are a snapshot at the window's end: a new user read "0" for today while a handoff was open.
    Before its end a window says "pending"; an ended window gives its count."""
    from types import SimpleNamespace

    async def read(*_: object, **__: object) -> SimpleNamespace:
        return SimpleNamespace(records=_records(), undecodable=0)

    monkeypatch.setattr("processors.kpis.cli.read_topics", read)
    monkeypatch.setattr("processors.kpis.cli._now", lambda: T0 + timedelta(hours=12))
    start, end = T0.replace(hour=0), T0.replace(hour=0) + timedelta(days=2)
    result = CliRunner().invoke(omnibus, ["report", "kpis", "--from", start.isoformat(), "--to", end.isoformat()],
                                env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.startswith("│")}
    assert "pending" in rows[f"DAY {T0:%Y-%m-%d} 00:00"] and "pending" in rows[f"DAY {T0 + timedelta(days=1):%Y-%m-%d} 00:00"]
    assert "pending" not in rows[f"HOUR {T0:%Y-%m-%d %H}:00"]

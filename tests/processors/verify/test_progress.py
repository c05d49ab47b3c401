"""tester30 F16: ``omnibus verify`` on ~65,000 events printed nothing for 10 minutes. Each stage (the lag, the read,
each recomputation) now reports its progress: a line per stage on stderr, as ``omnibus replay`` draws."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from processors.profile.book import ProfileBook
from processors.replay import TopicsReplay
from processors.replay import identity as replay_identity
from processors.verify import run
from processors.verify.report import Report
from tests.processors.identity.support import observed, settings
from tests.processors.verify.support import INPUT, SETTINGS, record


class Stages:
    """A ``Stage`` that records each stage's name and the (done, total) it was told."""

    def __init__(self) -> None:
        self.told: dict[str, list[tuple[int, int]]] = {}

    @contextmanager
    def __call__(self, what: str) -> Iterator[run.Progress]:
        calls = self.told.setdefault(what, [])
        yield lambda done, total: calls.append((done, total))


def inputs(count: int) -> list:
    return [record(INPUT, f"k{n}", observed([("PHONE", f"+3362222{n:04d}")], event_id=f"e{n}", minutes=n), n)
            for n in range(count)]


def test_every_stage_of_verify_reports_its_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    records = inputs(5)
    monkeypatch.setattr(replay_identity, "PROGRESS_EVERY", 2)

    async def no_lag(*_args: object) -> list:
        return []

    async def read(_settings: object, specs: list, *, progress: run.Progress | None = None, **_kw: object) -> TopicsReplay:
        assert progress is not None
        progress(len(records), len(records))
        return TopicsReplay(records)

    monkeypatch.setattr(run, "wait_unread", no_lag)
    monkeypatch.setattr(run, "read_topics", read)
    stages = Stages()
    run.verify(SETTINGS, processors=("identity",), identity=settings(), book=ProfileBook([]), progress=stages)
    names = list(stages.told)
    assert names[0] == "reading the processors' consumer lag"
    assert names[1].startswith("reading ") and names[1].endswith(" topics") and stages.told[names[1]] == [(5, 5)]
    assert names[2] == "recomputing identity from its inputs"
    assert stages.told[names[2]] == [(2, 5), (4, 5), (5, 5)]  # every PROGRESS_EVERY records, and at the end


def test_omnibus_verify_draws_its_progress_on_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    from omnibus.cli import app
    from processors.verify import cli

    def fake_verify(_settings: object, *, progress: run.Stage, **_kw: object) -> Report:
        with progress("reading 12 topics") as reading:
            reading(65_000, 65_000)
        return Report([], {})

    monkeypatch.setattr(cli, "verify", fake_verify)
    result = CliRunner().invoke(app, ["verify", "--bootstrap-servers", "127.0.0.1:1"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "reading 12 topics" in result.output and "65000/65000" in result.output.replace(" ", ""), result.output

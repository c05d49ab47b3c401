"""``omnibus deadletters show ID --reveal`` logs who saw identifier values (never the values), and only when it
showed them: reported, it logged "dead letter shown with its identifier values" for a refused file line, of which it
can only show the clear copy (identifiers masked), so an auditor counted an exposure that did not happen."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from bus.dead_letter_clear import CLEAR_COPY_HEADER, MASKED
from bus.errors import RawRecord
from processors.deadletters import DeadLetter
from processors.deadletters.cli import app
from tests.processors.deadletters.test_init import file_line, letter

SEAL_KEY = "k" * 44


class Recorder:
    """Stands for the command's logger: what it logged, whatever the logging configuration of the test process (a
    command run before may have configured structlog, which ``capture_logs`` does not survive)."""

    def __init__(self) -> None:
        self.lines: list[dict[str, object]] = []

    def __getattr__(self, level: str) -> Callable[..., None]:
        return lambda event, **values: self.lines.append({"log_level": level, "event": event, **values})


def shown(monkeypatch: pytest.MonkeyPatch, dead_letter: DeadLetter) -> list[dict[str, object]]:
    """The log lines of ``show ID --reveal`` of ``dead_letter``, read from no broker (the listing is the unit's)."""
    async def listing(_settings: object) -> list[DeadLetter]:
        return [dead_letter]

    recorder = Recorder()
    monkeypatch.setattr("processors.deadletters.cli.read_dead_letters", listing)
    monkeypatch.setattr("processors.deadletters.cli.log", recorder)
    result = CliRunner().invoke(app, ["show", dead_letter.id, "--reveal"],
                                env={"OMNIBUS_DEAD_LETTERS__SEAL_KEY": SEAL_KEY})
    assert result.exit_code == 0, result.output
    return recorder.lines


def test_a_clear_copy_shown_is_logged_as_such_not_as_a_disclosure(monkeypatch: pytest.MonkeyPatch) -> None:
    logs = shown(monkeypatch, file_line(**{CLEAR_COPY_HEADER: MASKED}))
    assert [(line["log_level"], line["event"]) for line in logs] == [
        ("info", "dead letter shown as its clear copy (identifier values masked)")]


def test_a_value_shown_as_it_came_is_logged_as_a_disclosure(monkeypatch: pytest.MonkeyPatch) -> None:
    older = letter(RawRecord(value=b'{"phone": "+34677123456"}'))  # an older release's: the value as sent
    logs = shown(monkeypatch, older)
    assert [(line["log_level"], line["event"]) for line in logs] == [
        ("warning", "dead letter shown with its identifier values")]
    assert "+34677123456" not in str(logs)

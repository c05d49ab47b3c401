"""``deadletters redrive``'s usage errors (exit 2) say what the selection holds and what to do with it, without a
broker: the dead letters are handed in."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from bus.errors import RawRecord
from processors.deadletters import cli
from tests.processors.deadletters.test_init import letter

FILE_LINE = letter(RawRecord(b"ZG-0003;;x;Reklamacja", headers=(("file", b"cases.csv"), ("file.line", b"3"),
                                                                  ("layout", b"zgloszenia"))),
                   reason="cases.csv line 3: required field case_type is missing", component="adapter.legacy")
FROM_TOPIC = letter(RawRecord(b"\x00", topic="omnibus.contact.events.v1", partition=0, offset=7), component="identity")


def redrive(monkeypatch: pytest.MonkeyPatch, letters: list[Any], *args: str) -> Any:
    monkeypatch.setattr(cli, "_selected", lambda *_: letters)
    return CliRunner().invoke(cli.app, ["redrive", *(x.id for x in letters), *args])


def test_by_and_why_on_a_file_line_say_it_is_imported_again_not_that_it_was_read_from_a_topic(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """It exited 2 with "(a record read from a topic goes back as it was)": the line was read from a file."""
    result = redrive(monkeypatch, [FILE_LINE], "--by", "kasia", "--why", "legacy")
    assert result.exit_code == 2, result.output
    assert "file import is corrected in the file and the file imported again" in result.output
    assert "read from a topic" not in result.output
    both = redrive(monkeypatch, [FILE_LINE, FROM_TOPIC], "--set", "a=1", "--by", "kasia", "--why", "legacy")
    assert both.exit_code == 2 and "file import" in both.output and "read from a topic goes back" in both.output


def test_unset_goes_with_a_sealed_body_as_set_does(monkeypatch: pytest.MonkeyPatch) -> None:
    result = redrive(monkeypatch, [FROM_TOPIC], "--unset", "customer.pesel")
    assert result.exit_code == 2 and "--unset" in result.output and "read from a topic" in result.output
    both = redrive(monkeypatch, [FROM_TOPIC], "--unset", "a", "--set", "a=1")
    assert both.exit_code == 2 and "one or the other" in both.output

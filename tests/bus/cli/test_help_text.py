"""No ``--help`` shows reStructuredText markup (new-user sample: raw double backticks in help texts)."""

from __future__ import annotations

import re
from typing import Any

import typer
from typer.testing import CliRunner

from bus.cli.help_text import plain
from omnibus.cli import app


def _paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, sub in getattr(command, "commands", {}).items():  # typer vendors its own click: duck-typed
        found += _paths(sub, (*prefix, name))
    return found


def test_no_help_text_shows_double_backticks() -> None:
    paths = _paths(typer.main.get_command(app))
    assert len(paths) > 40  # every group and command, the root included
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
        assert result.exit_code == 0, (path, result.output)
        assert "``" not in result.output, (path, result.output)


def test_no_help_shows_a_value_type_beside_a_flag() -> None:
    """tester11 #9: ``omnibus --help`` showed ``--help <bool>`` and ``--install-completion <bool>`` (typer with click
    8.3 prints every option's type), and every command's flags the same; options that take a value keep theirs."""
    paths = _paths(typer.main.get_command(app))
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "160"})
        assert "<bool>" not in result.output, (path, result.output)
    redrive = runner.invoke(app, ["deadletters", "redrive", "--help"], env={"COLUMNS": "160"}).output
    assert "--since" in redrive and "<str>" in redrive


def test_plain_keeps_the_words_and_paragraphs() -> None:
    text = "Use ``--by customer``: one row\n    per customer.\n\n    ``--strict`` exits 1."
    assert plain(text) == "Use --by customer: one row per customer.\n\n--strict exits 1."


def test_no_help_names_an_internal_tracker_entry() -> None:
    """A fresh tester saw "(tester11 #9)" in ``omnibus --help``: who found a rule is history for commit messages and
    tests, not for the person running the command."""
    internal = re.compile(r"\btester\d+")
    runner = CliRunner()
    for path in _paths(typer.main.get_command(app)):
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "160"})
        assert not internal.search(result.output), (path, result.output)

"""One machine-readable form for every list an ``omnibus`` command prints (testers: ``deadletters list --json``
printed JSON lines, ``identity review list --json`` one array, ``offers list --json`` an object keyed by id)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from bus.cli.json_lines import JSON_LINES_HELP, echo_json_lines, json_line
from omnibus.cli import app as omnibus


@dataclass
class Row:
    name: str
    at: datetime


def _printed(*items: object, **common: object) -> list[dict]:
    cli = typer.Typer()

    @cli.command()
    def show() -> None:
        echo_json_lines(items, **common)

    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_each_item_is_one_compact_line_and_an_empty_list_prints_nothing() -> None:
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert _printed({"a": 1}, Row("x", at)) == [{"a": 1}, {"name": "x", "at": "2026-11-30T09:00:00Z"}]
    assert _printed() == []
    assert "\n" not in json_line({"a": [1, {"b": "c"}]})


def test_common_fields_come_first_and_an_items_own_field_wins() -> None:
    at = datetime(2026, 11, 30, tzinfo=UTC)
    assert _printed(Row("x", at), {"month": "own"}, month="2026-11") == [
        {"month": "2026-11", "name": "x", "at": "2026-11-30T00:00:00Z"}, {"month": "own"}]


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    """Every command of the tree by its words (typer vendors its own click: groups are told by ``commands``)."""
    found = []
    for name, command in group.commands.items():
        found.append((" ".join((*path, name)), command))
        if hasattr(command, "commands"):
            found += _commands(command, (*path, name))
    return found


@pytest.mark.parametrize("option", ["--json", "--format"])
def test_every_json_option_of_a_list_says_json_lines(option: str) -> None:
    """Every ``--json`` in the command tree is JSON Lines, said in its help, but for a command that shows one item
    (``handoffs show``): a new list command's ``--json`` takes ``JSON_LINES_HELP`` and ``echo_json_lines``."""
    with_json = {name: param for name, command in _commands(typer.main.get_command(omnibus))
                 for param in command.params if option in getattr(param, "opts", ())}
    assert {"deadletters list", "identity review list", "offers list", "report handoffs"} <= set(with_json) or (
        option == "--format" and {"handoffs reconcile", "report handoffs"} <= set(with_json))
    single = {"handoffs show"}
    for name, param in with_json.items():
        if name not in single:
            assert JSON_LINES_HELP in (getattr(param, "help", "") or ""), name

"""A lazy typer group builds a sub-command on first use only (``bus.cli.lazy``)."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from bus.cli.lazy import LazyCommands, lazy_group


def test_lazy_commands_build_on_access_only_and_keep_their_order() -> None:
    built: list[str] = []

    def loader(name: str) -> Any:
        def load() -> str:
            built.append(name)
            return f"command {name}"
        return load

    commands = LazyCommands({"eager": "command eager"}, {"one": loader("one"), "two": loader("two")})
    assert list(commands) == ["eager", "one", "two"] and len(commands) == 3 and "two" in commands
    assert built == []  # listing names builds nothing
    assert commands.get("two") == "command two" and commands.get("missing") is None
    assert commands["two"] == "command two"
    assert built == ["two"]  # built once
    assert dict(commands.items()) == {"eager": "command eager", "one": "command one", "two": "command two"}
    assert built == ["two", "one"]


def test_a_loader_failing_with_a_key_error_is_not_taken_for_a_missing_command() -> None:
    def broken() -> Any:
        empty: dict[str, Any] = {}
        return empty["nothing"]

    with pytest.raises(KeyError):
        LazyCommands({}, {"broken": broken}).get("broken")


def _hello_app() -> typer.Typer:
    hello = typer.Typer(help="Say ``hello``.")

    @hello.command("world")
    def world(loud: bool = typer.Option(False, help="Say it\n    ``loudly``.")) -> None:
        print("HELLO" if loud else "hello")

    @hello.command("moon")
    def moon() -> None:
        print("moon")

    return hello


def test_a_lazy_group_invokes_and_documents_its_sub_commands_as_an_eager_one() -> None:
    built: list[str] = []

    def load() -> typer.Typer:
        built.append("hello")
        return _hello_app()

    def version() -> None:
        """Print ``the`` version."""
        print("1.0")

    lazy = typer.Typer(cls=lazy_group({"hello": load, "version": lambda: version}))

    @lazy.callback()
    def root() -> None:
        return None

    runner = CliRunner()
    assert runner.invoke(lazy, ["version"]).output == "1.0\n"
    assert built == []  # another sub-command was invoked
    assert runner.invoke(lazy, ["hello", "world", "--loud"]).output == "HELLO\n"
    assert built == ["hello"]
    helped = runner.invoke(lazy, ["hello", "world", "--help"], env={"COLUMNS": "100"}).output
    assert "Say it loudly." in helped and "``" not in helped  # help cleaned as at composition
    listed = runner.invoke(lazy, ["--help"], env={"COLUMNS": "100"}).output
    assert "hello" in listed and "Say hello." in listed and "Print the version." in listed
    assert runner.invoke(lazy, ["goodbye"]).exit_code == 2  # no such command

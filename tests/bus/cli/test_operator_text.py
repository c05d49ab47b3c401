"""An operator's free text is scrubbed as the channels' is, and the operator is told what was masked, never the
value (tester24 F5)."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from bus.cli.operator_text import masked_note, operator_id, operator_text
from bus.redact import free_text, free_text_masked
from tests.support.references import declared_references


@pytest.mark.parametrize(("text", "scrubbed", "masked"), [
    ("card 4111 1111 1111 1111 ending", "card [digits] ending", ("card number",)),
    ("Amex 3782-822463-10005", "Amex [digits]", ("card number",)),
    ("IBAN FR7630006000011234567890189", "IBAN [digits]", ("number",)),  # whole: tester29 F12
    ("call 01 70 00 00 00 or support@example.fr", "call [digits] or [email]", ("number", "e-mail address")),
    ("key PHONE:+33612345678", "key PHONE:[value]", ("PHONE key",)),
    ("born 1980-02-01", "born [date dddd-dd-dd]", ("date",)),
    ("invoice BILL-2024-04 of 89.90 EUR", "invoice BILL-2024-04 of 89.90 EUR", ()),
])
def test_free_text_masked_is_free_text_and_names_each_masked_kind(text: str, scrubbed: str,
                                                                   masked: tuple[str, ...]) -> None:
    assert free_text_masked(text) == (scrubbed, masked)
    assert free_text(text) == scrubbed


def test_the_note_counts_kinds_and_never_shows_a_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert masked_note("--reason", ()) is None
    assert operator_text("--reason", "  fixed, thanks  ") == "fixed, thanks"
    assert capsys.readouterr().err == ""
    typed = "cards 4111111111111111 and 5500 0000 0000 0004, mail a@example.fr"
    assert operator_text("--reason", typed) == "cards [digits] and [digits], mail [email]"
    err = capsys.readouterr().err
    assert err.startswith("note: --reason: masked 2 card numbers, 1 e-mail address before publishing"), err
    assert "4111" not in err and "example.fr" not in err


def test_the_note_speaks_of_several_in_the_plural() -> None:
    note = masked_note("--reason", ("e-mail address", "number", "e-mail address", "number"))
    assert note is not None and note.startswith("note: --reason: masked 2 e-mail addresses, 2 numbers before")


@pytest.mark.parametrize(("given", "looks_like"), [
    ("jane.doe@bank.example", "an e-mail address"),
    ("+33 6 12 34 50 05", "a phone number"),
    ("PHONE:+33612345005", "an identifier"),
])
def test_tester25_f9_an_operator_id_holding_an_identifier_value_is_refused_never_repeated(
    given: str, looks_like: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """tester25 F9: ``--by jane.doe@bank.example`` went raw onto handoff.events.v1 while every ``--reason`` is
    scrubbed. An id is counted per person, so it is refused (not scrubbed into ``[email]``), by the scrubber's rule."""
    with pytest.raises(typer.Exit) as exited:
        operator_id("--by", given)
    err = capsys.readouterr().err
    assert exited.value.exit_code == 2 and err.startswith(f"error: --by looks like {looks_like}")
    assert "give the employee id" in err
    assert err.count("\n") == 1 and given not in err and given.split("@")[0] not in err


@pytest.mark.parametrize("given", ["jdoe", "E12345", "ops-3", "  agent-1 "])
def test_an_employee_id_is_taken_stripped(given: str) -> None:
    assert operator_id("--by", given) == given.strip()


# Every command that publishes who did it, with what it needs besides ``--by`` (tester25 F9: one rule for all).
OPERATOR_COMMANDS = [
    ["handoffs", "acknowledge", "h1"], ["handoffs", "accept", "h1"], ["handoffs", "transfer", "h1", "--reason", "x"],
    ["handoffs", "hold", "h1"], ["handoffs", "resume", "h1"], ["handoffs", "resolve", "h1", "--reason", "done"],
    ["handoffs", "close", "h1"], ["handoffs", "reopen", "h1", "--reason", "x"], ["handoffs", "escalate", "h1"],
    ["identity", "merge", "cus_a", "cus_b", "--reason", "one person"],
    ["identity", "unmerge", "cus_b", "--reason", "two people"],
    ["identity", "split", "--customer", "cus_a", "--identifier", "EMAIL:a@x.org", "--reason", "typo"],
    ["identity", "move-contact", "CALL-1", "--from", "cus_a", "--to", "cus_b", "--reason", "wrong pop"],
    ["identity", "release", "PHONE", "+33699887701", "--customer", "cus_a"],
    ["identity", "review", "accept", "r1", "--reason", "same person"],
    ["identity", "review", "reject", "r1", "--reason", "two people"],
    ["deadletters", "redrive", "d1", "--new-id", "--why", "refused for its id only"],
    ["deadletters", "open-case", "d1", "--kind", "line-repair", "--identifier", "PHONE=+48221234567", "--why", "lost"],
]


@pytest.mark.parametrize("command", OPERATOR_COMMANDS, ids=lambda command: " ".join(command[:3]))
def test_tester25_f9_every_operator_command_refuses_an_e_mail_by_before_reading_kafka(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from omnibus.cli import app

    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")  # nothing listens: refused before
    result = CliRunner().invoke(app, [*command, "--by", "jane.doe@bank.example"])
    assert result.exit_code == 2, result.output
    assert "error: --by looks like an e-mail address" in result.output and "jane.doe" not in result.output


def test_tester25_f9_a_handoffs_owner_is_an_employee_id_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from omnibus.cli import app

    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")
    result = CliRunner().invoke(app, ["handoffs", "accept", "h1", "--by", "jdoe", "--owner", "+33612345005"])
    assert result.exit_code == 2 and "error: --owner looks like a phone number" in result.output, result.output


def test_every_command_with_a_by_option_is_checked_above() -> None:
    """A new command that records who did it joins ``OPERATOR_COMMANDS`` (``report handoffs --by`` groups a report)."""
    import typer.main

    from omnibus.cli import app

    def with_by(command: Any, path: tuple[str, ...]) -> set[tuple[str, ...]]:
        if hasattr(command, "list_commands"):  # a group (typer's own click; ``bus.cli.lazy`` loads on demand)
            return {found for name, sub in command.commands.items() for found in with_by(sub, (*path, name))}
        return {path} if any("--by" in getattr(param, "opts", ()) for param in command.params) else set()

    found = with_by(typer.main.get_command(app), ()) - {("report", "handoffs")}
    unchecked = {path for path in found if not any(tuple(command[:len(path)]) == path for command in OPERATOR_COMMANDS)}
    assert len(found) == len(OPERATOR_COMMANDS) and not unchecked, sorted(unchecked)


def test_tester26_f8_every_operator_text_keeps_the_declared_references(capsys: pytest.CaptureFixture[str]) -> None:
    """An identity decision's, an offer's or a dead letter's reason keeps a declared meter point id as a handoff's
    does; the note counts only what was masked."""
    with declared_references("meter_point_id"):
        kept = operator_text("--why", "meter_point_id: 14500000000001 checked, index 0048211")
    assert kept == "meter_point_id: 14500000000001 checked, index [digits]"
    assert "masked 1 number before" in capsys.readouterr().err

"""An operator's free text is scrubbed as the channels' is, and the operator is told what was masked, never the
value (tester24 F5)."""

from __future__ import annotations

import pytest

from bus.cli.operator_text import masked_note, operator_text
from bus.redact import free_text, free_text_masked


@pytest.mark.parametrize(("text", "scrubbed", "masked"), [
    ("card 4111 1111 1111 1111 ending", "card [digits] ending", ("card number",)),
    ("Amex 3782-822463-10005", "Amex [digits]", ("card number",)),
    ("IBAN FR7630006000011234567890189", "IBAN FR[digits]", ("number",)),
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

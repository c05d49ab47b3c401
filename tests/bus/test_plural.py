"""bus/plural.py: a count and its noun, one rule for every summary (new-user sample: ``import-cdr`` printed
``Master.csv: 1 lines, 3 events published``)."""

from __future__ import annotations

from bus.plural import counted, noun_for, plural


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert [counted(n, "line") for n in (0, 1, 2, 11)] == ["0 lines", "1 line", "2 lines", "11 lines"]
    assert counted(1, "duplicate record") == "1 duplicate record" and counted(3, "follow-up") == "3 follow-ups"


def test_regular_plurals_and_given_ones() -> None:
    assert plural("e-mail address") == "e-mail addresses" and plural("batch") == "batches"
    assert plural("card number") == "card numbers"
    assert counted(2, "entry", "entries") == "2 entries" and counted(1, "entry", "entries") == "1 entry"
    assert noun_for(1, "line") == "line" and noun_for(3, "line") == "lines"

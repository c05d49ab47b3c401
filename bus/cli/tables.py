"""The tables the command line prints (rich)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

WIDE_COLUMNS = 120  # a terminal at least this wide shows every column of a table that declares a narrow set
PIPED_COLUMNS = 1000  # the width of a report written to a pipe or a file: no table of ours reaches it


def report_console(*, stderr: bool = False) -> Console:
    """The console a command prints its report on: a terminal's own width (or ``COLUMNS`` when set); written to
    a pipe or a file, ``PIPED_COLUMNS``, so every row of a table stays on one line whatever reads it (a new user
    saw `omnibus report kpis | less` fold every cell of every row over six lines at rich's default 80 columns).
    Tables keep their natural width: the fixed width only stops folding."""
    console = Console(stderr=stderr)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        return Console(stderr=stderr, width=PIPED_COLUMNS)
    return console


class ReportTable(Table):
    """A ``Table`` that may show only some of its declared columns: ``add_row`` takes a cell for every
    declared column and drops the cells of the hidden ones, so callers fill rows the same way at any width."""

    def __init__(self, declared: Sequence[str], shown: Sequence[str], **options: Any) -> None:
        super().__init__(**options)
        self.declared, self.shown = tuple(declared), tuple(shown)

    def add_row(self, *cells: Any, **options: Any) -> None:
        if len(cells) == len(self.declared) and self.shown != self.declared:
            by_column = dict(zip(self.declared, cells, strict=True))
            cells = tuple(by_column[column] for column in self.shown)
        super().add_row(*cells, **options)


def report_table(*columns: str, narrow: Sequence[str] | None = None, whole: Sequence[str] = (),
                 console: Console | None = None, **options: Any) -> ReportTable:
    """A rich table with ``columns`` whose cells are never cut short: on a narrow terminal (80 columns) a
    long id or reason folds onto the next line instead of ending in "…", so it can still be pasted into the next
    command (``omnibus identity review accept <id>``). ``options`` go to ``Table`` (``title``, ``show_lines``).

    ``narrow``: the columns kept when ``console`` (default: the terminal) is narrower than ``WIDE_COLUMNS``,
    so the ones that matter stay readable instead of every column folding into a few characters. ``whole``:
    columns never folded (names read and pasted as one word); they take the width they need.
    """
    width = (console or report_console()).width
    shown = tuple(narrow) if narrow is not None and width < WIDE_COLUMNS else columns
    if shown != columns:
        options.setdefault("show_edge", False)  # a few more characters for the columns that stay
        options.setdefault("collapse_padding", True)
    table = ReportTable(columns, shown, **options)
    for column in shown:
        if column in whole:
            table.add_column(column, no_wrap=True, overflow="ignore")
        else:
            table.add_column(column, overflow="fold")
    return table

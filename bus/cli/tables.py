"""The tables the command line prints (rich)."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def report_table(*columns: str, **options: Any) -> Table:
    """A rich ``Table`` with ``columns`` whose cells are never cut short: on a narrow terminal (80 columns) a
    long id or reason folds onto the next line instead of ending in "…", so it can still be pasted into the next
    command (``omnibus identity review accept <id>``). ``options`` go to ``Table`` (``title``, ``show_lines``)."""
    table = Table(**options)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table

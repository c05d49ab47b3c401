"""What a command shows while it waits: a rich spinner on a terminal, one plain line anywhere else."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from rich.console import Console


def waiting(console: Console, text: str) -> AbstractContextManager[object]:
    """A context manager showing ``text`` while its block runs. A spinner is drawn only on a terminal: in a CI log,
    a pipe or a file it shows nothing at all, so there ``text`` is printed once as a line (a fresh tester, running
    ``scripts/demo.sh`` under a tool, saw no output for 3.5 minutes)."""
    if console.is_terminal:
        return console.status(text)
    console.print(text)
    return nullcontext()

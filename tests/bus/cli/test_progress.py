"""``waiting``: a spinner on a terminal, a plain line elsewhere."""

from __future__ import annotations

import io

from rich.console import Console

from bus.cli.progress import waiting


def test_off_a_terminal_the_wait_is_one_plain_line() -> None:
    """A fresh tester ran ``scripts/demo.sh`` under a tool and saw nothing for 3.5 minutes: rich draws no spinner off a
    terminal."""
    out = io.StringIO()
    with waiting(Console(file=out, force_terminal=False), "Starting Kafka (KRaft)..."):
        pass
    assert out.getvalue() == "Starting Kafka (KRaft)...\n"


def test_on_a_terminal_it_is_a_spinner() -> None:
    out = io.StringIO()
    with waiting(Console(file=out, force_terminal=True), "Starting Kafka (KRaft)..."):
        pass
    assert "\x1b[" in out.getvalue()  # drawn and cleared with terminal control codes

"""Where a benchmark's report goes: printed, and written to a file only when one is named (``--output FILE``).

The pages of ``tests/bench/results/`` keep every earlier run, each section added by hand with its command and
machine; a run that replaced one by default lost them (the handoffs page, once). A run writes nowhere unless told.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_output(parser: argparse.ArgumentParser) -> None:
    """The ``--output FILE`` option (a ``Path``, default None: print only)."""
    parser.add_argument("--output", type=Path, default=None,
                        help="Also write the report to this file (replaced). Default: print only; the results "
                             "pages in tests/bench/results/ keep every run, each section added by hand.")


def write(text: str, output: Path | None) -> str:
    """``text``, also written to ``output`` (replaced, its folder made) when one is named."""
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    return text

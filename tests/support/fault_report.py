"""Figures of the fault tests (#13 build 5), each test owning one section of ``tests/bench/results/faults.md``.

``record_fault("worker-kill", "...markdown...")`` replaces that test's section (between
``<!-- fault:worker-kill -->`` and ``<!-- /fault:worker-kill -->``) and leaves every other section as it
was, so fault tests written and run separately share one results file. Sections are kept in name order.
"""

from __future__ import annotations

import os
import platform
import re
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results" / "faults.md"
HEADER = (
    "# Fault tests (#13)\n\n"
    "Each section is written by the slow fault test named in it, on the run stated there.\n"
    "Run them all: `.venv/bin/python -m pytest -m slow tests/faults tests/processors/identity/test_pause.py`.\n"
)
_SECTION = re.compile(r"<!-- fault:(?P<name>[\w.-]+) -->\n(?P<body>.*?)<!-- /fault:(?P=name) -->\n", re.S)


def machine() -> str:
    """One line naming the machine and its load, for the section's provenance."""
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (f"{os.cpu_count()} cores, Python {platform.python_version()}, load average {load}, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def record_fault(name: str, body: str, path: Path = RESULTS) -> None:
    """Write ``body`` (markdown, ending with a newline) as the section ``name`` of ``path``."""
    sections = {match["name"]: match["body"] for match in _SECTION.finditer(path.read_text())} \
        if path.exists() else {}
    sections[name] = body if body.endswith("\n") else body + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(
        f"\n<!-- fault:{key} -->\n{sections[key]}<!-- /fault:{key} -->\n" for key in sorted(sections)))

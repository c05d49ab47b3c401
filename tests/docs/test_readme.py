"""The test commands the README and docs give: a "fast suite" filter deselects every slow marker."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SLOW_MARKERS = ("kafka", "registry", "postgres", "slow")  # pyproject.toml's markers for broker and long runs


def test_every_fast_suite_filter_deselects_every_slow_marker() -> None:
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    filters = [(doc.name, expr) for doc in documents
               for expr in re.findall(r"""-m\s+["']([^"']+)["']""", doc.read_text(encoding="utf-8"))
               if "not kafka" in expr]
    assert filters, "the README gives the fast-suite command"
    for name, expr in filters:
        missing = [marker for marker in SLOW_MARKERS if f"not {marker}" not in expr]
        assert not missing, f"{name}: -m {expr!r} still selects {missing}"

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


def test_every_relative_link_of_the_docs_resolves_inside_the_repository() -> None:
    """A new user's fresh clone had no ``../shared/domain.md``: the README must stand on its own."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    broken = []
    for doc in documents:
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a URL or an anchor of the same page
            path = (doc.parent / target.split("#")[0]).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert not broken, broken


def test_no_user_document_names_an_internal_tracker_entry() -> None:
    """The READMEs and docs state rules, not who found them ("tester14 M1" is history for commit messages and tests),
    as ``omnibus --help`` does (tests/bus/cli/test_help_text.py)."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")),
                 *sorted(path for top in ("adapters", "bus", "processors", "schemas", "deploy", "demo")
                         for path in (ROOT / top).rglob("*.md"))]
    internal = re.compile(r"\btester\d+")
    named = [f"{doc.relative_to(ROOT)}: {match.group(0)}" for doc in documents
             for match in internal.finditer(doc.read_text(encoding="utf-8"))]
    assert not named, named

"""The user documents' prose lines stay within 120 characters, as the code's (ruff's ``line-length``): tables, code
blocks and a line that is one unbreakable word (a URL) aside. The generated documents (docs/alerts.md,
docs/settings.md) are written by ``python -m deploy`` from their sources and are not checked here."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 120
GENERATED = {"docs/alerts.md", "docs/settings.md"}
PACKAGES = ("adapters", "bus", "processors", "schemas", "deploy", "demo")


def user_documents() -> list[Path]:
    """README.md, docs/*.md and the packages' READMEs."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
            *sorted(path for top in PACKAGES for path in (ROOT / top).rglob("README.md"))]


def long_prose_lines(text: str) -> list[int]:
    """Line numbers of prose lines longer than ``WIDTH`` (not in a fenced block, not a table row, not one word)."""
    long, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced or len(line) <= WIDTH or stripped.startswith("|") or " " not in stripped:
            continue
        long.append(number)
    return long


def test_no_prose_line_of_a_user_document_is_longer_than_120_characters() -> None:
    found = [f"{doc.relative_to(ROOT)}:{number}" for doc in user_documents()
             if str(doc.relative_to(ROOT)) not in GENERATED
             for number in long_prose_lines(doc.read_text(encoding="utf-8"))]
    assert not found, found


def test_tables_code_blocks_and_urls_are_not_counted() -> None:
    text = "\n".join(["| " + "cell " * 40 + "|", "```", "x " * 100, "```", "https://example.org/" + "a" * 150,
                      "word " * 30])
    assert long_prose_lines(text) == [6]

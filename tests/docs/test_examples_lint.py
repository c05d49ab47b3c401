"""The examples a subscriber copies are linted like the packages (a line of docs/examples/python/consume.py was over
the 120-character limit, and ``scripts/lint.sh`` did not look there)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_lint_checks_the_python_examples_and_ruff_finds_nothing_there() -> None:
    lint = (ROOT / "scripts" / "lint.sh").read_text(encoding="utf-8")
    assert "examples=(docs/examples/python)" in lint and '"${examples[@]}"' in lint.split("ruff check", 1)[1]
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format=concise", "docs/examples"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr

#!/usr/bin/env bash
# Lint and type-check the Python packages: ruff (pycodestyle, pyflakes, import order, bugbear) and mypy with
# pydantic's plugin; settings in pyproject.toml ([tool.ruff], [tool.mypy]). Exits non-zero on any finding.
# `scripts/lint.sh --fix` lets ruff sort imports and apply its other safe fixes first.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
fix=()
[ "${1:-}" = "--fix" ] && fix=(--fix)
# The packages, and the examples a subscriber copies (docs/examples: they import nothing of Omnibus, so mypy
# checks them on their own). tests/ is not linted yet.
packages=(omnibus bus adapters processors schemas deploy demo)
examples=(docs/examples/python)
status=0
"$python" -m ruff check --output-format=concise "${fix[@]}" "${packages[@]}" "${examples[@]}" || status=1
"$python" -m mypy || status=1
"$python" -m mypy "${examples[@]}" || status=1
exit "$status"

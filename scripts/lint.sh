#!/usr/bin/env bash
# Lint and type-check the Python packages: ruff (pycodestyle, pyflakes, import order, bugbear) and mypy with
# pydantic's plugin; settings in pyproject.toml ([tool.ruff], [tool.mypy]). Exits non-zero on any finding.
# `scripts/lint.sh --fix` lets ruff sort imports and apply its other safe fixes first.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
fix=()
[ "${1:-}" = "--fix" ] && fix=(--fix)
status=0
"$python" -m ruff check --output-format=concise "${fix[@]}" omnibus bus adapters processors schemas deploy demo || status=1
"$python" -m mypy || status=1
exit "$status"

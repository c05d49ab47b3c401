#!/usr/bin/env bash
# Lint and type-check (scripts/lint.sh), then run every test: the fast unit suite, then the broker/database
# suites against a real Kafka broker (fetched from Maven Central and started on a free port by the test
# session) and a real PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/lint.sh
.venv/bin/omnibus schemas check
.venv/bin/python -m pytest "$@"

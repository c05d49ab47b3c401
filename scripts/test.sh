#!/usr/bin/env bash
# Lint and type-check (scripts/lint.sh), then run every test: the fast unit suite, then the broker/database
# suites against a real Kafka broker (fetched from Maven Central and started on a free port by the test
# session) and a real PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/lint.sh
.venv/bin/omnibus schemas check
# Two test processes (pytest-xdist; OMNIBUS_TEST_WORKERS=0 runs one): each starts its own broker, registry and
# PostgreSQL, and its own demo run when it runs a demo test (``xdist_group`` does not group with pytest 9.2 and
# xdist 3.8: the worker's group suffix on the test id is not applied, so both workers may start one).
# Their stderr goes to .omnibus/test-stderr.log (scripts/pytest_logged.sh): pytest's report stays on the terminal.
bash scripts/pytest_logged.sh -n "${OMNIBUS_TEST_WORKERS:-2}" --dist loadgroup "$@"

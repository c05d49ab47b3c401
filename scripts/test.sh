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
# PostgreSQL; the tests of one ``xdist_group`` run on one worker (the demo run's two checks: one demo, not two;
# tests/fixtures/xdist_groups.py applies xdist 3.8's group suffix where pytest 9.2 reads a test's id).
# Their stderr goes to .omnibus/test-stderr.log (scripts/pytest_logged.sh): pytest's report stays on the terminal.
# The 15 slowest tests are listed at the end, so a CI run that grows long says where its time went.
bash scripts/pytest_logged.sh -n "${OMNIBUS_TEST_WORKERS:-2}" --dist loadgroup --durations=15 "$@"

#!/usr/bin/env bash
# Lint and type-check (scripts/lint.sh), then run every test: the fast unit suite, then the broker/database
# suites against a real Kafka broker (fetched from Maven Central and started on a free port by the test
# session) and a real PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/lint.sh
.venv/bin/omnibus schemas check
# The tests' files (brokers' logs, worker tables, adapter state, checkpoints, journals) go to RAM when the machine has
# a tmpfs: they fsync often, and on a shared disk an fsync waits milliseconds (tests/bus/test_producer.py: 311 and 251 s
# with its files on disk, 173 and 126 s on /dev/shm, alternating, on a loaded 2-core machine). A kill -9 keeps what a
# process wrote on either file system, so every test proves the same. A TMPDIR already set is kept; the directory is
# world-traversable like /tmp (PostgreSQL runs as its own user) and removed when the tests end.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] \
    && [ "$(df --output=avail -k /dev/shm | tail -1)" -gt $((4 * 1024 * 1024)) ]; then
    TMPDIR=$(mktemp -d /dev/shm/omnibus-tests.XXXXXX)
    chmod 1777 "$TMPDIR"
    export TMPDIR
    trap 'rm -rf "$TMPDIR"' EXIT
fi
.venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# Run pytest with its stderr in a log file, so the log lines that the code under test writes outside a test's
# capture (aiokafka's warnings from a broker test's clients, its subprocesses' stderr) are not interleaved with
# pytest's progress dots (tester30 F3: they looked like failures). pytest reports on stdout: progress, failures and
# the summary stay on the terminal. When pytest fails, the end of the log is printed too, so nothing is hidden.
# Usage: scripts/pytest_logged.sh [pytest arguments]; OMNIBUS_TEST_LOG names the file (.omnibus/test-stderr.log).
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
log=${OMNIBUS_TEST_LOG:-.omnibus/test-stderr.log}
mkdir -p "$(dirname "$log")"
"$python" -m pytest "$@" 2> "$log"
status=$?
if [ -s "$log" ]; then
    echo "stderr of the test run (log lines written outside the tests' capture): $log"
    if [ "$status" -ne 0 ]; then
        echo "pytest exited $status; the last 40 lines of $log:"
        tail -n 40 "$log"
    fi
fi
exit "$status"

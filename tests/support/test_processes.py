"""``tests.support.processes``: a process that exits while a test waits for it is reported with its exit status and
the end of what it wrote (CI's readiness test said only "the process exited while waiting for the identity worker
to be ready")."""

from __future__ import annotations

import subprocess
import sys
import tempfile

import pytest

from tests.support.processes import Command, tail_report

CRASH = ('{"level": "info", "event": "starting"}\n{"level": "error", "event": "[^Worker]: Error: '
         'InvalidReplicationFactorError(\'All brokers are currently fenced\')", "logger": "faust.worker"}\n')


def test_a_process_that_exits_while_waited_for_names_its_status_and_its_last_lines() -> None:
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen([sys.executable, "-c", f"import sys; sys.stdout.write({CRASH!r}); sys.exit(1)"],
                                   stdout=out, stderr=subprocess.STDOUT)
        process.wait(60)
        with pytest.raises(AssertionError) as raised:
            Command(process, sink=out).wait_for(lambda: None, "the identity worker to be ready")
    report = str(raised.value)
    assert report.startswith("the process exited while waiting for the identity worker to be ready:\nexit status 1\n")
    assert "last line: " + CRASH.splitlines()[-1] in report
    assert "warnings and errors:\n" + CRASH.splitlines()[-1] in report


def test_the_report_of_a_running_process_lists_its_alarms_before_its_last_lines() -> None:
    logged = ['{"level": "warning", "event": "slow"}', *[f'{{"level": "info", "n": {n}}}' for n in range(40)]]
    report = tail_report(None, logged, lines=2).splitlines()
    assert report[:4] == ["running", f"last line: {logged[-1]}", "warnings and errors:", logged[0]]
    assert report[4:] == ["last 2 lines:", *logged[-2:]]

"""tester30 F3: ``scripts/test.sh`` interleaved aiokafka's JSON warning lines with pytest's progress dots. pytest's
stderr now goes to a log file; its report (stdout) stays on the terminal, and a failing run prints the log's end."""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pytest_logged.sh"
WARNING = '{"event": "Got error produce response: NotLeaderForPartitionError", "level": "warning", "repeated": 76}'


def run(tmp_path: Path, status: int) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The script with a stand-in for pytest: dots on stdout, a log line on stderr, then ``status``."""
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\nprintf '....'\necho '{WARNING}' >&2\nprintf '.. [100%%]\\n'\nexit {status}\n")
    fake.chmod(0o755)
    log = tmp_path / "stderr.log"
    done = subprocess.run(["bash", str(SCRIPT), "-q"], env={"PATH": "/usr/bin:/bin", "PYTHON": str(fake),
                          "OMNIBUS_TEST_LOG": str(log)}, capture_output=True, text=True, timeout=60, check=False)
    return done, log


def test_log_lines_go_to_the_file_not_between_the_progress_dots(tmp_path: Path) -> None:
    done, log = run(tmp_path, 0)
    assert done.returncode == 0
    assert done.stdout.startswith("...... [100%]") and WARNING not in done.stdout + done.stderr
    assert WARNING in log.read_text() and "stderr of the test run (log lines written outside" in done.stdout


def test_a_failing_run_keeps_its_status_and_shows_the_end_of_the_log(tmp_path: Path) -> None:
    done, log = run(tmp_path, 1)
    assert done.returncode == 1
    assert f"pytest exited 1; the last 40 lines of {log}:" in done.stdout and WARNING in done.stdout

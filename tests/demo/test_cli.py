"""``omnibus demo``'s console: tables, not log lines (tester9 #10)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bus.logging import get_logger
from demo.cli import DEMO_QUIET_LOGGERS, demo_logging

REPO = Path(__file__).resolve().parents[2]


def test_the_demos_own_warnings_stay_out_of_its_tables(capfd: pytest.CaptureFixture[str]) -> None:
    """The dead letter of the malformed call it sends, and faust's "producer buffer full size 102" (a first-time user
    read it as something gone wrong), stay out; every other warning shows."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        demo_logging()
        get_logger("bus.dead_letter").warning("dead-lettered a record", component="adapter.call_center")
        logging.getLogger("faust.transport.producer").warning("producer buffer full size 102")
        get_logger("bus.other").warning("something else went wrong")
        captured = capfd.readouterr()
        assert "dead-lettered" not in captured.err + captured.out
        assert "producer buffer full" not in captured.err + captured.out
        assert "something else went wrong" in captured.err + captured.out  # other warnings still show
    finally:
        for name in DEMO_QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)
        root.handlers[:], root.level = handlers, level


def test_a_stack_that_cannot_start_ends_the_demo_in_one_error_line(tmp_path: Path) -> None:
    """A Java that cannot start the broker: the demo ends with status 1 and one ``error:`` line naming the logs,
    kept outside its removed scratch folder, not a 170-line traceback (as a broker not ready in time on a loaded
    machine did)."""
    java_home = tmp_path / "java"
    (java_home / "bin").mkdir(parents=True)
    java = java_home / "bin" / "java"
    java.write_text("#!/bin/sh\necho 'this Java cannot start' >&2\nexit 1\n")
    java.chmod(0o755)
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMNIBUS_")}
    cache = os.environ.get("OMNIBUS_STACK_CACHE")
    env |= {"JAVA_HOME": str(java_home), "TMPDIR": str(tmp_path), "PYTHONPATH": str(REPO),
            **({"OMNIBUS_STACK_CACHE": cache} if cache else {})}
    ended = subprocess.run([sys.executable, "-m", "omnibus", "demo"], env=env, cwd=tmp_path, capture_output=True,
                           text=True, timeout=300, check=False)
    errors = [line for line in ended.stderr.splitlines() if line.startswith("error: ")]
    assert ended.returncode == 1 and len(errors) == 1 and "Traceback" not in ended.stdout + ended.stderr, ended
    assert ended.stderr.rstrip().endswith(errors[0]) and "last lines" not in errors[0]
    named = [Path(word.rstrip(".,;")) for word in errors[0].split() if word.startswith(str(tmp_path))]
    assert named and all(path.exists() for path in named), errors[0]  # kept after the scratch folder went

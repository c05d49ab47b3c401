"""``omnibus demo``'s console: tables, not log lines (tester9 #10)."""

from __future__ import annotations

import logging

import pytest

from bus.logging import get_logger
from demo.cli import demo_logging


def test_the_demos_own_dead_letter_warning_stays_out_of_its_tables(capfd: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        demo_logging()
        get_logger("bus.dead_letter").warning("dead-lettered a record", component="adapter.call_center")
        get_logger("bus.other").warning("something else went wrong")
        captured = capfd.readouterr()
        assert "dead-lettered" not in captured.err + captured.out
        assert "something else went wrong" in captured.err + captured.out  # other warnings still show
    finally:
        logging.getLogger("bus.dead_letter").setLevel(logging.NOTSET)
        root.handlers[:], root.level = handlers, level

"""``omnibus demo``'s console: tables, not log lines (tester9 #10)."""

from __future__ import annotations

import logging

import pytest

from bus.logging import get_logger
from demo.cli import DEMO_QUIET_LOGGERS, demo_logging


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

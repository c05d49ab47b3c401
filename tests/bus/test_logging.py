"""bus.logging: libraries' INFO lines are left out of a one-shot command's answer, kept in a long-running process."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bus.logging import LIBRARY_LOGGERS, configure_logging, get_logger


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    import structlog

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    structlog.reset_defaults()


def test_a_one_shot_command_shows_library_warnings_but_not_their_info(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", library_level="WARNING")
    logging.getLogger("aiokafka.consumer.group_coordinator").info("Discovered coordinator 1 for group x")
    logging.getLogger("httpx").info('HTTP Request: GET http://127.0.0.1:1/apis "HTTP/1.1 200 OK"')
    logging.getLogger("aiokafka").warning("connection lost")
    get_logger("omnibus.cli").info("our own line")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and "connection lost" in lines[0] and "our own line" in lines[1]


def test_a_long_running_process_configured_after_it_shows_library_info_again(
        capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", library_level="WARNING")  # the CLI's callback, before the command's own settings
    configure_logging("INFO")  # bus.bootstrap.start_process
    logging.getLogger("aiokafka.consumer.group_coordinator").info("Joined group x (generation 1)")
    assert "Joined group" in capsys.readouterr().err

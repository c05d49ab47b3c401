"""bus/logging.py: library lines of a healthy process do not look like failures (new-user finding #12)."""

from __future__ import annotations

import json
import logging

import pytest

from bus.logging import ROUTINE_LIBRARY_WARNINGS, configure_logging


def test_routine_library_warnings_are_info_in_plain_words(capsys: pytest.CaptureFixture[str]) -> None:
    """The reported lines: aiokafka's "Marking the coordinator dead (node 1)for group omnibus.identity." and
    mode's "Timer commit is overlapping", seen in every demo run with nothing wrong."""
    configure_logging("INFO")
    logging.getLogger("aiokafka.consumer.group_coordinator").warning(
        "Marking the coordinator dead (node %s)for group %s.", 1, "omnibus.identity")
    logging.getLogger("mode.timers").warning("Timer %s is overlapping (interval=%r runtime=%r)", "commit", 2.8, 3.1)
    logging.getLogger("aiokafka.consumer.group_coordinator").warning("Heartbeat failed for group %s", "g")  # not ours
    lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    assert [(line["level"], line.get("transient", False)) for line in lines] == [
        ("info", True), ("info", True), ("warning", False)]
    assert lines[0]["event"] == "Looking up the group coordinator again (node 1 stopped answering) for group " \
        "omnibus.identity"
    assert lines[1]["event"].startswith("Timer commit ran longer than its interval (interval=2.8 runtime=3.1)")
    assert not any("dead" in line["event"] or "overlapping" in line["event"] for line in lines)


def test_at_warning_level_the_routine_lines_are_not_written(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("WARNING")
    for (name, template), _ in ROUTINE_LIBRARY_WARNINGS.items():
        logging.getLogger(name).warning(template, *(["x"] * template.count("%")))
    assert capsys.readouterr().err == ""
    configure_logging("INFO")


def test_the_templates_are_the_libraries_own() -> None:
    """A library upgrade that rewords a line would make the mapping silently useless: the templates are checked
    against the installed sources."""
    import inspect

    import aiokafka.consumer.group_coordinator as coordinator
    import mode.timers as timers

    sources = {"aiokafka.consumer.group_coordinator": inspect.getsource(coordinator),
               "mode.timers": inspect.getsource(timers)}
    for name, template in ROUTINE_LIBRARY_WARNINGS:
        assert f'"{template}"' in sources[name], template

"""bus/logging.py: library lines of a healthy process do not look like failures (new-user finding #12), and
libraries' INFO lines are left out of a one-shot command's answer but kept in a long-running process."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator

import pytest

from bus.log_transients import ROUTINE_LIBRARY_WARNINGS
from bus.logging import LIBRARY_LOGGERS, PORTS_LOGGER, configure_logging, get_logger, ports_logger


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
    logging.getLogger("httpcore2.http11").info("response_closed.complete")
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


def test_registry_requests_are_not_logged_one_by_one_unless_debugging(capsys: pytest.CaptureFixture[str]) -> None:
    """tester11 #9: every process logged each schema registry call at INFO through httpx."""
    configure_logging("INFO")  # a long-running process: library INFO shown, but not one line per HTTP request
    for name in ("httpx", "httpx2", "httpcore", "httpcore2.http11"):  # httpcore2: seen in `offers publish` at DEBUG
        logging.getLogger(name).info('HTTP Request: GET http://127.0.0.1:1/apis "HTTP/1.1 200 OK"')
    logging.getLogger("httpx").warning("registry connection reset")
    err = capsys.readouterr().err
    assert "HTTP Request" not in err and "registry connection reset" in err
    configure_logging("DEBUG")
    logging.getLogger("httpx").info('HTTP Request: GET http://127.0.0.1:1/apis "HTTP/1.1 200 OK"')
    assert "HTTP Request" in capsys.readouterr().err


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


def test_at_warning_level_a_process_still_says_which_port_it_bound(capsys: pytest.CaptureFixture[str]) -> None:
    """A process on port 0 names its port only in its log: at ``OMNIBUS_LOG__LEVEL=WARNING`` that line was left out,
    and nothing said where the process listened. Its other INFO lines stay out."""
    configure_logging("WARNING")
    ports_logger().info("adapter listening", host="127.0.0.1", port=40123)
    get_logger("adapters.base.http").info("another info line")
    (line,) = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    assert line["event"] == "adapter listening" and line["port"] == 40123 and line["logger"] == PORTS_LOGGER
    configure_logging("ERROR")
    ports_logger().info("web server port chosen", port=40124)
    assert "40124" in capsys.readouterr().err
    configure_logging("DEBUG")
    assert logging.getLogger(PORTS_LOGGER).getEffectiveLevel() == logging.DEBUG  # nothing hidden when debugging
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


def test_in_a_one_shot_command_the_lowered_lines_are_left_out_like_other_library_info(
        capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", library_level="WARNING")
    logging.getLogger("mode.timers").warning("Timer %s is overlapping (interval=%r runtime=%r)", "commit", 2.8, 3.1)
    assert capsys.readouterr().err == ""


# tester15 F7: a record of the offers' pending-offers changelog, as faust.topics printed it at DEBUG
CHANGELOG_VALUE = (
    '[{"schema":"omnibus.contact.IdentifiersObserved","identifiers":[{"type":"USER_ID","value":"PortalUser-99812"},'
    '{"type":"ACCOUNT","value":"GB82WEST12345698765432"},{"type":"USER_ID","value":"u-rg"}],"traits":{'
    '"given_name":"Robert","family_name":"Garnier","address_line":"8 rue Victor Hugo","postcode":"38000",'
    '"city":"Grenoble","full_name":"Zo\u00e9 Roux"}}]').encode()
CONTENT = ("PortalUser", "99812", "GB82", "WEST", "u-rg", "Robert", "Garnier", "Victor Hugo", "38000", "Grenoble",
           "Roux")


def test_no_library_line_prints_a_record_key_or_value_only_their_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    """faust's and aiokafka's DEBUG lines that print a record (as an argument, inside a message's repr, or in an
    f-string) show its key's and value's sizes, whatever the template: none of its content."""
    from faust.types import TP, Message

    configure_logging("DEBUG")
    key = b"PortalUser-99812"
    send = "send: topic=%r k=%r v=%r timestamp=%r partition=%r"  # faust/topics.py, faust/transport/drivers/aiokafka.py
    logging.getLogger("faust.topics").debug(send, "omnibus.offers-offers-pending-changelog", key, CHANGELOG_VALUE,
                                            1764600000.123, None)
    logging.getLogger("faust.transport.drivers.aiokafka").debug(send, "omnibus.offers-x-changelog", key,
                                                                CHANGELOG_VALUE, 1764600000.123, 3)
    logging.getLogger("aiokafka.producer.producer").debug("Sending (key=%s value=%s) to %s", key, CHANGELOG_VALUE,
                                                          TP("omnibus.offers-x-changelog", 3))
    logging.getLogger("faust.transport.consumer").info("[^--Consumer]: DROPPED MESSAGE ROFF %r: k=%r v=%r", 12, key,
                                                       CHANGELOG_VALUE)
    message = Message("omnibus.identity.observed.v1", 3, 12, 1764600000.0, 0, [], key, CHANGELOG_VALUE, None)
    logging.getLogger("faust.streams").info("Skipping message %r with generation_id %r", message, 4)
    logging.getLogger("faust.topics").warning(f"_on_published error for message topic x error boom message {message}")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 6
    for line in lines:
        assert not [text for text in CONTENT if text in line], line
    assert f"k=<{len(key)} bytes> v=<{len(CHANGELOG_VALUE)} bytes>" in json.loads(lines[0])["event"]
    assert f"key=<{len(key)} bytes> value=<{len(CHANGELOG_VALUE)} bytes>" in json.loads(lines[2])["event"]
    assert "topic='omnibus.offers-offers-pending-changelog'" in lines[0]  # the rest of the line stays


def test_a_line_without_bytes_keeps_its_arguments_as_they_were(capsys: pytest.CaptureFixture[str]) -> None:
    from decimal import Decimal

    configure_logging("DEBUG")
    logging.getLogger("faust.app").debug("%d records in %s, %r", Decimal(3), ("a", 1), {"k": "v"})
    assert json.loads(capsys.readouterr().err)["event"] == "3 records in ('a', 1), {'k': 'v'}"


def test_the_cel_evaluators_trace_of_a_customers_facts_is_not_written_even_at_debug(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Found running ``offers run`` at DEBUG for tester15 F7: celpy logged every evaluation's activation, with the
    customer's city (``'city': ... StringType('Grenoble')``)."""
    import celpy

    configure_logging("DEBUG")
    environment = celpy.Environment()
    program = environment.program(environment.compile('city == "Paris"'))
    assert program.evaluate({"city": celpy.celtypes.StringType("Grenoblezq")}) == celpy.celtypes.BoolType(False)
    logging.getLogger("celpy.Evaluator").warning("kept")
    lines = capsys.readouterr().err.strip().splitlines()
    assert "Grenoblezq" not in "".join(lines) and len(lines) == 1 and "kept" in lines[0]


def test_repeated_library_info_lines_of_a_broker_restart_fold_into_one_line_with_a_count(
        capsys: pytest.CaptureFixture[str]) -> None:
    """tester28 F15: after a broker restart identity wrote 312 INFO lines ``OffsetCommit failed for group
    omnibus.identity due to a coordinator error (NotCoordinatorForGroupError)...`` in 4 s (aiokafka logs it per
    partition and commit); only warnings were folded. The template is aiokafka's own (checked below)."""
    import inspect

    import aiokafka.consumer.group_coordinator as coordinator

    template = "OffsetCommit failed for group %s due to a coordinator error (%s), will find new coordinator and retry"
    source = inspect.getsource(coordinator)
    assert '"OffsetCommit failed for group %s due to a"' in source
    assert '" coordinator error (%s), will find new coordinator"' in source and '" and retry"' in source
    configure_logging("INFO")
    logger = logging.getLogger("aiokafka.consumer.group_coordinator")
    for _ in range(312):
        logger.info(template, "omnibus.identity", "NotCoordinatorForGroupError")
    for handler in logging.getLogger().handlers:
        handler.close()
    lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    assert [line.get("repeated") for line in lines] == [None, 311]
    assert all(line["level"] == "info" and "NotCoordinatorForGroupError" in line["event"] for line in lines)


def test_a_recomputation_does_not_show_the_processors_warnings_about_old_input_again(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Reported: ``omnibus verify`` printed the handoff tracker's warnings of its recomputation (an older version of a
    case's source record...) with today's timestamp and the live tracker's logger name; a log shipper reading a
    cron job's stderr counted them as new. Its report says what the recomputation found; its errors still show."""
    from bus.logging import recomputing

    configure_logging("INFO", library_level="WARNING")
    tracker = get_logger("processors.handoffs.tracker")
    with recomputing("processors.handoffs"):
        tracker.warning("an older version of the case's source record arrived after a newer one")
        get_logger("processors.verify.run").warning("the command's own line")
        tracker.error("a failure of the recomputation itself")
    tracker.warning("a live line after it")
    lines = capsys.readouterr().err.strip().splitlines()
    assert [json.loads(line)["event"] for line in lines] == [
        "the command's own line", "a failure of the recomputation itself", "a live line after it"]
    assert logging.getLogger("processors.handoffs").level == logging.NOTSET


def test_a_process_component_names_every_line_from_every_thread(capsys: pytest.CaptureFixture[str]) -> None:
    """``bind_component``: a library's line from a thread of its own (faust's consumer thread) names the process's
    component too; a component's own context (``logged_as``: the demo's adapters, in one process) and a line's own
    ``component=`` win over it."""
    from bus.logging import bind_component, logged_as

    configure_logging("INFO")
    bind_component("kpis")
    try:
        thread = threading.Thread(target=lambda: logging.getLogger("aiokafka.consumer").warning("from a thread"))
        thread.start()
        thread.join()
        get_logger("processors.kpis").info("own line")
        with logged_as("adapter.web"):
            get_logger("adapters.web").info("in a component's context")
        get_logger("bus.dead_letter").info("named", component="adapter.branch")
    finally:
        bind_component(None)
    get_logger("processors.kpis").info("unbound")
    logged = {line["event"]: line.get("component") for line in map(json.loads, capsys.readouterr().err.splitlines())}
    assert logged == {"from a thread": "kpis", "own line": "kpis", "in a component's context": "adapter.web",
                      "named": "adapter.branch", "unbound": None}

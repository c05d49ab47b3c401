import json
import logging

import pytest

from bus.logging import configure_logging, get_logger
from bus.redact import redact, scrub_text, token

@pytest.fixture(autouse=True)
def restore_logging():  # type: ignore[no-untyped-def]
    """configure_logging changes process-wide state: put it back for the tests that follow."""
    import structlog

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


SECRETS = ["alice@example.com", "+8613800138000", "13800138000", "11010519491231002X", "6222020200112233445"]


def test_named_identifier_fields_become_tokens() -> None:
    redacted = redact({"phone": "+8613800138000", "email": "alice@example.com", "count": 3})
    assert redacted["count"] == 3
    assert redacted["phone"].startswith("tok:") and redacted["email"].startswith("tok:")
    assert redacted["phone"] == token("+8613800138000")  # stable within a process: lines can be correlated


def test_identifier_shapes_are_scrubbed_from_free_text() -> None:
    text = "caller +86 138-0013-8000 wrote from alice@example.com about card 6222020200112233445"
    scrubbed = scrub_text(text)
    assert "138" not in scrubbed and "alice" not in scrubbed and "6222" not in scrubbed
    assert "caller" in scrubbed


def test_nested_identifier_lists() -> None:
    redacted = redact({"identifiers": [{"type": "EMAIL", "value": "alice@example.com"}]})
    assert "alice" not in json.dumps(redacted)


def test_log_lines_never_carry_identifiers(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    log = get_logger("test", component="web")
    log.info("identify from alice@example.com", phone="+8613800138000", national_id="11010519491231002X")
    logging.getLogger("aiokafka").warning("key 13800138000 and card 6222020200112233445")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        json.loads(line)
        for secret in SECRETS:
            assert secret not in line


def test_loggers_created_before_configuration_follow_it(capsys: pytest.CaptureFixture[str]) -> None:
    early = get_logger("created.at.import", component="branch")  # as module-level loggers are
    configure_logging("INFO")
    early.info("upload from terminal", phone="+33612345678")
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert json.loads(line)["component"] == "branch" and "+33612345678" not in line

"""What a long-running reader of a legacy table does with an error its database answered (``database_error``)."""

from __future__ import annotations

import psycopg
import pytest
from structlog.testing import capture_logs

from adapters.legacy import errors
from bus.errors import ConfigError
from bus.logging import get_logger


@pytest.mark.parametrize("error", [
    psycopg.errors.UndefinedColumn('column "updated_at" does not exist'),
    psycopg.errors.UndefinedTable('relation "tickets" does not exist'),
    psycopg.errors.InsufficientPrivilege("permission denied for table tickets"),
])
def test_a_table_that_no_longer_fits_its_reader_is_configuration(error: psycopg.Error) -> None:
    with pytest.raises(ConfigError, match=rf"^poller tickets: .*table 'tickets' \({error.sqlstate}: .*start it again"):
        errors.database_error(error, "poller tickets", "tickets")


def test_any_other_database_error_is_logged_for_a_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(errors, "log", get_logger(errors.__name__))
    with capture_logs() as logs:
        errors.database_error(psycopg.errors.FeatureNotSupported("cached plan must not change result type"),
                              "outbox relay", "outbox")
    assert logs == [{"event": "database error; retrying on a new connection", "log_level": "warning",
                     "reader": "outbox relay", "table": "outbox", "error": "FeatureNotSupported",
                     "sqlstate": "0A000", "message": "cached plan must not change result type"}]


def test_the_message_is_scrubbed_as_logs_are() -> None:
    error = psycopg.errors.InvalidTextRepresentation('invalid input syntax for type bigint: "622111222"')
    with pytest.raises(ConfigError) as raised:
        errors.database_error(psycopg.errors.UndefinedColumn(str(error)), "poller tickets", "tickets")
    assert "622111222" not in str(raised.value)

"""Error policy of the legacy-systems adapter (on top of ``adapters.base.errors``).

- A record that cannot become a business event (unknown event type, a missing or malformed field) is
  ``RejectedInput``: it is dead-lettered with its reason and *marked done* (outbox row stamped with
  ``refused_reason``, poller position and file checkpoint moved past it): one bad row never stalls the
  rows behind it.
- Kafka not acknowledging is ``Unavailable``: nothing is marked, the same rows are read again on the
  next round (their ids are deduped), and the loop retries after ``retry_after_s``.
- A database that cannot be reached (``psycopg.OperationalError``) is retried the same way; a layout
  file that does not describe the file (``LayoutError``), or bad settings, stop the adapter: retrying
  cannot fix them.
- A table that no longer fits its reader (a column or the table dropped, a privilege revoked:
  ``psycopg.ProgrammingError``) stops the relay or poller with one ``error:`` line (``ConfigError``, status 2):
  a person must change the table or the settings. Any other error the database answers is retried on a new
  connection after ``retry_after_s`` (``database_error``).
"""

from __future__ import annotations

import psycopg

from adapters.base.errors import RejectedInput, Unavailable
from bus.errors import ConfigError, OmnibusError
from bus.logging import get_logger
from bus.redact import scrub_text

__all__ = ["LayoutError", "NoHeaderLine", "RejectedInput", "Unavailable", "database_error"]
log = get_logger(__name__)


class LayoutError(OmnibusError):
    """A batch layout file is invalid, or the file does not match it (fatal: fix the layout)."""



class NoHeaderLine(LayoutError):
    """A file read with a layout that has a header has none: it is empty, or its first line is blank. What a failed
    export looks like, not a layout that is wrong: ``import-batch`` imports nothing of it and exits 3, not 2."""


def database_error(exc: psycopg.Error, reader: str, table: str) -> None:
    """What a long-running reader of ``table`` (``reader``: ``outbox relay``, ``poller NAME``) does with an error its
    database answered other than ``psycopg.OperationalError`` (unreachable: the caller retries): a
    ``psycopg.ProgrammingError`` (an undefined column or table, insufficient privilege: SQLSTATE classes 42 and 3F of
    the PostgreSQL manual's appendix A) raises ``ConfigError`` naming the table, the SQLSTATE and the database's
    message (identifier-like values scrubbed as logs are); anything else is logged as a warning and the caller
    retries on a new connection, which also drops what the old one had prepared."""
    message = scrub_text(" ".join(str(exc).split()))
    if isinstance(exc, psycopg.ProgrammingError):
        raise ConfigError(f"{reader}: the database refused its query on table {table!r} ({exc.sqlstate}: {message}); "
                          "make the table and the settings agree, then start it again") from exc
    log.warning("database error; retrying on a new connection", reader=reader, table=table,
                error=type(exc).__name__, sqlstate=exc.sqlstate, message=message)

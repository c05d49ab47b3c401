"""A batch line without a time of its own is published marked ``undated`` (tester28 F3).

A layout without ``occurred_at`` (most master exports have none), or a line whose ``occurred_at`` cell is blank,
stamps the export file's modification time: the business event says so, so that a fact dated by its source
(an ``AccountClosed`` of 30/11) outranks it on the screen pop and in the offers' facts.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.base.checkpoint import Checkpoint
from adapters.legacy.batch_file import FileImport
from adapters.legacy.batch_report import BatchReport
from adapters.legacy.layout import Layout, load_layout
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from tests.adapters.legacy.support import legacy_context, utc

EXPORTED = utc(2026, 12, 3, 7, 2, 11)  # the accounts export's modification time (the tester's import day)
ACCOUNTS = """name: accounts
format: csv
event: AccountOpened
delimiter: ";"
fields:
  account_number: {column: CONTRAT}
  account_type: {column: TYPE}
  phone: {column: TEL}
"""
CLOSURES = """name: closures
format: csv
event: AccountClosed
delimiter: ";"
occurred_at: closed_on
fields:
  account_number: {column: CONTRAT}
  closed_on: {column: DATE_RESILIATION, type: date, format: "%d/%m/%Y"}
"""


def layout(tmp_path: Path, text: str) -> Layout:
    path = tmp_path / "layout.yaml"
    path.write_text(text)
    return load_layout(path)


def mapped_line(tmp_path: Path, layout_text: str, header: str, line: str,
                ctx: LegacyContext | None = None) -> dict[str, Any]:
    """The business event ``import-batch`` publishes for ``line`` of a file exported at ``EXPORTED``; ``ctx``: the
    mapping context (default: ``legacy_context``, no token key)."""
    chosen = layout(tmp_path, layout_text)
    export = tmp_path / "export.csv"
    export.write_text(f"{header}\n{line}\n")
    os.utime(export, (EXPORTED.timestamp(), EXPORTED.timestamp()))
    with export.open("rb") as handle:
        reading = FileImport(ctx or legacy_context(), export, chosen, handle, Checkpoint(tmp_path / "checkpoint.json"),
                             BatchReport("0" * 64), chosen.columns_from(header), revisions=None,  # type: ignore[arg-type]
                             listed=None, chunk_lines=10)  # type: ignore[arg-type]
        record = reading.to_record(0, (2, line))
    assert record is not None
    return record.events[0].event.value


def test_a_layout_without_occurred_at_stamps_the_export_time_and_marks_the_event_undated(tmp_path: Path) -> None:
    """The tester's accounts export: the open is stamped at the file's time, and says it is only that."""
    value = mapped_line(tmp_path, ACCOUNTS, "CONTRAT;TYPE;TEL", "EA-00200001;residential;0472000003")
    assert value["envelope"]["occurred_at"] == EXPORTED and value["undated"] is True


def test_a_line_with_its_own_date_is_dated(tmp_path: Path) -> None:
    """The tester's closures: dated 30/11 by the export, three days before the import."""
    value = mapped_line(tmp_path, CLOSURES, "CONTRAT;DATE_RESILIATION", "EA-00200001;30/11/2026")
    assert value["envelope"]["occurred_at"] == utc(2026, 11, 30) and value["undated"] is False


def test_a_blank_occurred_at_cell_is_undated_too(tmp_path: Path) -> None:
    value = mapped_line(tmp_path, CLOSURES, "CONTRAT;DATE_RESILIATION", "EA-00200001;")
    assert value["envelope"]["occurred_at"] == EXPORTED and value["undated"] is True


@pytest.mark.parametrize("undated", [True, False])
def test_every_business_event_carries_the_mark_its_record_gives(undated: bool) -> None:
    """An outbox or poller row has a time of its own (its ``occurred_at``, else the row's creation or update time):
    dated, the default."""
    record = BusinessRecord("AccountClosed", {"account_number": "EA-00200001"}, "outbox:7",
                            datetime(2026, 11, 30, tzinfo=UTC), undated=undated)
    (event, *_) = map_business(record, legacy_context()).events
    assert event.event.value["undated"] is undated
    assert BusinessRecord("AccountClosed", {}, "outbox:7", datetime(2026, 11, 30, tzinfo=UTC)).undated is False

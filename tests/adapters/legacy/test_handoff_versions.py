"""Every version of a polled ticket row, or of a keyed batch line, of type ``HandoffCreated`` is the same case.

The case is named after the row (``poll:<poller>:<key>``) or the line's key (``batch:<layout>:key-<32 hex>``), not
after the version, and names that record in ``intake_facts.source_record`` (``bus.handoff_revisions``): the tracker
reads a later version as the same case (``processors.handoffs.revisions``). Event ids stay per version: the same
version read again is the same event (at least once), another version another event.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

from adapters.base.checkpoint import Checkpoint
from adapters.legacy.batch_file import FileImport
from adapters.legacy.batch_report import BatchReport
from adapters.legacy.config import PollerSettings
from adapters.legacy.ingress_outbox import outbox_record
from adapters.legacy.ingress_poller import polled_record, polled_record_id, polled_row_id
from adapters.legacy.layout import load_layout
from adapters.legacy.mapper import map_business
from adapters.legacy.revisions import RevisionStore
from bus.config import TopicSettings
from bus.handoff_revisions import SOURCE_RECORD_FACT, SOURCE_VERSION_FACT
from bus.topics import HANDOFF_EVENTS
from tests.adapters.legacy.support import legacy_context, utc

CTX = replace(legacy_context(), handoff_topic=HANDOFF_EVENTS.name(TopicSettings()))
TICKETS = PollerSettings(name="tickets", table="tickets", primary_key="id", event_type="HandoffCreated")
TICKET = {"id": 5, "case_type": "meter-dispute", "summary": "Estimated reading", "phone": "+34612000025"}


def polled(row: dict[str, Any], spec: PollerSettings = TICKETS) -> dict[str, Any]:
    (out,) = map_business(polled_record(spec, CTX, row), CTX).events
    return out.event.value


def test_the_ids_of_a_row_and_of_its_versions() -> None:
    at = utc(2026, 12, 4, 10)
    assert polled_row_id("tickets", "5") == "poll:tickets:5"
    assert polled_record_id(polled_row_id("tickets", "5"), at) == "poll:tickets:5@2026-12-04T10:00:00+00:00"
    record = polled_record(TICKETS, CTX, {**TICKET, "updated_at": at})
    assert (record.dedupe_id, record.record_key) == ("poll:tickets:5@2026-12-04T10:00:00+00:00", "poll:tickets:5")


def test_an_updated_ticket_row_is_the_same_case_under_another_event_id() -> None:
    first = polled({**TICKET, "updated_at": utc(2026, 12, 4, 10)})
    again = polled({**TICKET, "updated_at": utc(2026, 12, 4, 10)})
    later = polled({**TICKET, "summary": "Estimated reading; photo sent", "updated_at": utc(2026, 12, 4, 15)})
    case = f"legacy:{CTX.source_system}:poll:tickets:5"
    assert first["handoff_id"] == later["handoff_id"] == case
    assert first["intake_facts"][SOURCE_RECORD_FACT] == later["intake_facts"][SOURCE_RECORD_FACT] == case
    assert again["envelope"]["event_id"] == first["envelope"]["event_id"]  # a re-poll of the same version
    assert later["envelope"]["event_id"] != first["envelope"]["event_id"]  # each version a fact of its own
    assert first["origin_interaction_id"] != later["origin_interaction_id"]


def test_a_row_naming_its_own_handoff_id_names_its_source_record_too() -> None:
    """Before, such a row's update was a ``duplicate_creation`` dead letter: same handoff id, another event id."""
    value = polled({**TICKET, "handoff_id": "TK-5", "updated_at": utc(2026, 12, 4, 15)})
    assert value["handoff_id"] == "TK-5"
    assert value["intake_facts"][SOURCE_RECORD_FACT] == f"legacy:{CTX.source_system}:poll:tickets:5"


def test_an_outbox_row_has_one_version_and_names_no_source_record() -> None:
    row = outbox_record(1, "ticket", "T-77", "HandoffCreated", TICKET, utc(2026, 12, 4))
    value = map_business(row, CTX).events[0].event.value
    assert value["handoff_id"] == f"legacy:{CTX.source_system}:outbox:1" and SOURCE_RECORD_FACT not in value["intake_facts"]


LAYOUT = """name: cases
format: csv
event: HandoffCreated
delimiter: ";"
key: [ticket]
fields:
  ticket: {column: TICKET}
  case_type: {column: KIND}
  summary: {column: SUMMARY}
"""


def test_a_changed_line_of_a_keyed_layout_is_the_same_case(tmp_path: Path) -> None:
    """The batch form of the kind: the line's id changes once it changed (``…@<16 hex>``), its case does not."""
    (tmp_path / "cases.yaml").write_text(LAYOUT)
    layout = load_layout(tmp_path / "cases.yaml")
    header, lines = "TICKET;KIND;SUMMARY", ["T-1;meter-dispute;Estimated reading", "T-1;meter-dispute;Photo sent"]
    export = tmp_path / "cases.csv"
    export.write_text("\n".join([header, *lines]) + "\n")
    with export.open("rb") as handle:
        reading = FileImport(CTX, export, layout, handle, Checkpoint(tmp_path / "checkpoint.json"),
                             BatchReport("0" * 64), layout.columns_from(header),
                             revisions=RevisionStore(tmp_path / "revisions.sqlite"),
                             listed=None, chunk_lines=10)  # type: ignore[arg-type]
        first, changed = (reading.to_record(0, (number, line)) for number, line in ((2, lines[0]), (3, lines[1])))
    assert first is not None and changed is not None
    one, two = first.events[0].event.value, changed.events[0].event.value
    assert re.fullmatch(rf"legacy:{CTX.source_system}:batch:cases:key-[0-9a-f]{{32}}", one["handoff_id"])
    assert two["handoff_id"] == one["handoff_id"] == one["intake_facts"][SOURCE_RECORD_FACT]
    assert two["intake_facts"][SOURCE_RECORD_FACT] == one["handoff_id"]
    assert two["envelope"]["event_id"] != one["envelope"]["event_id"] and two["summary"] == "Photo sent"


def test_a_polled_version_states_its_instant_so_an_older_one_cannot_roll_the_case_back() -> None:
    """The tracker keeps the newer of two versions (``processors.handoffs.revisions``) by ``source_version``, the row's
    ``updated_at`` in UTC, whatever zone the table gives it."""
    madrid = timezone(timedelta(hours=1))
    value = polled({**TICKET, "updated_at": utc(2026, 12, 4, 15).astimezone(madrid)})
    assert value["intake_facts"][SOURCE_VERSION_FACT] == "2026-12-04T15:00:00+00:00"


def test_a_keyed_line_states_its_version_so_an_older_export_cannot_roll_the_case_back(tmp_path: Path) -> None:
    """Reported: a nightly export of 1 December imported after the one of 5 December put the case's summary back. A
    keyed line states its version as a polled row does: its date, else its file's (here the modification time)."""
    import os

    (tmp_path / "cases.yaml").write_text(LAYOUT)
    layout = load_layout(tmp_path / "cases.yaml")
    header = "TICKET;KIND;SUMMARY"

    def version(name: str, line: str, mtime: float) -> str:
        export = tmp_path / name
        export.write_text(f"{header}\n{line}\n")
        os.utime(export, (mtime, mtime))
        with export.open("rb") as handle:
            reading = FileImport(CTX, export, layout, handle, Checkpoint(tmp_path / f"{name}.json"),
                                 BatchReport("0" * 64), layout.columns_from(header),
                                 revisions=RevisionStore(tmp_path / "revisions.sqlite"),
                                 listed=None, chunk_lines=10)  # type: ignore[arg-type]
            mapped = reading.to_record(0, (2, line))
        assert mapped is not None
        return str(mapped.events[0].event.value["intake_facts"][SOURCE_VERSION_FACT])

    newer = version("cases_0512.csv", "T-1;meter-dispute;Refund issued", utc(2026, 12, 5, 1).timestamp())
    older = version("cases_0112.csv", "T-1;meter-dispute;Double charge", utc(2026, 12, 1, 23).timestamp())
    assert (newer, older) == ("2026-12-05T01:00:00+00:00", "2026-12-01T23:00:00+00:00")


def test_an_unkeyed_line_states_no_version(tmp_path: Path) -> None:
    (tmp_path / "cases.yaml").write_text(LAYOUT.replace("key: [ticket]\n", "").replace("  ticket: {column: TICKET}\n", ""))
    layout = load_layout(tmp_path / "cases.yaml")
    export = tmp_path / "cases.csv"
    export.write_text("TICKET;KIND;SUMMARY\nT-1;meter-dispute;Estimated reading\n")
    with export.open("rb") as handle:
        reading = FileImport(CTX, export, layout, handle, Checkpoint(tmp_path / "checkpoint.json"),
                             BatchReport("0" * 64), layout.columns_from("TICKET;KIND;SUMMARY"), revisions=None,
                             listed=None, chunk_lines=10)  # type: ignore[arg-type]
        mapped = reading.to_record(0, (2, "T-1;meter-dispute;Estimated reading"))
    assert mapped is not None and SOURCE_VERSION_FACT not in mapped.events[0].event.value["intake_facts"]

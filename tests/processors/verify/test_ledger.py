"""The input ledger: every acknowledged event id must be on its input topic."""

from __future__ import annotations

from pathlib import Path

import pytest

from processors.verify.ledger import check_ledger, read_ledger, write_ledger
from processors.verify.report import Report
from tests.processors.identity.support import observed
from tests.processors.verify.support import INPUT, record


def test_an_acknowledged_event_missing_from_its_topic_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    write_ledger(path, [("e1", "identity.observed.v1"), ("e2", "identity.observed.v1"), ("e1", "contact.events.v1")])
    inputs = [record(INPUT, "a", observed([("EMAIL", "a@example.org")], event_id="e1"), 0)]
    report = Report()
    check_ledger(read_ledger(path), inputs, "v", report)
    assert report.check("ledger: every acknowledged event is on an input topic").failures == [
        "event e2 acknowledged for identity.observed.v1 is not on the topic",
        "event e1 acknowledged for contact.events.v1 is not on the topic"]
    assert report.figures["lost"] == 2


def test_a_line_that_is_not_an_entry_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_text('{"event_id": "e1"}\n\n[1, 2]\n')
    with pytest.raises(ValueError, match="ledger.jsonl:3"):
        read_ledger(path)

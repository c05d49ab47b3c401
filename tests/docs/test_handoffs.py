"""``docs/handoffs.md`` states the handoff ids the channels give as the code builds them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from adapters.legacy.handoffs import legacy_handoff_id
from adapters.legacy.ingress_outbox import outbox_record_id
from adapters.legacy.ingress_poller import polled_record_id, polled_row_id
from bus.handoff_revisions import SOURCE_RECORD_FACT

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "handoffs.md").read_text(encoding="utf-8")


def test_the_legacy_handoff_ids_are_stated_as_the_relay_and_the_poller_give_them() -> None:
    outbox = legacy_handoff_id("<source>", outbox_record_id("<row id>"))
    assert f"`{outbox}` (outbox)" in GUIDE
    assert f"`{legacy_handoff_id('billing-db', outbox_record_id(1))}` for the row of id 1" in GUIDE
    polled = legacy_handoff_id("<source>", polled_row_id("<poller>", "<key>"))
    assert f"`{polled}` (poller: every version of the row" in GUIDE
    version = polled_record_id(polled_row_id("<poller>", "<key>"), datetime(2024, 1, 1, tzinfo=UTC))
    assert f"`{version.rsplit('@', 1)[0]}@<updated_at>`" in GUIDE  # the version's id, its events' ids derive from
    assert f"`intake_facts.{SOURCE_RECORD_FACT}`" in GUIDE
    assert "legacy:<source>:<row id>" not in GUIDE

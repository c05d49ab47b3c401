"""Two counter terminals' equal transaction ids are two visits for the KPIs too.

The reported sample: CT-0001-01 (branch B-0001) and CT-0002-01 (B-0002) both uploaded a transaction ``T-100`` on
2026-12-02; the ledger counts a contact once per ``(channel, source system, interaction_id)``
(``ledger._one_shot_keys``: every version of one contact one key), so with the bare transaction id B-0002's visit
counted ``contacts 0`` (since contacts are one per ``bus.contact_versions.contact_key``, the later visit replaces the
earlier as its newer version: one of the two is lost either way). The
branch adapter now scopes the id by its terminal (``adapters.base.issuers``): each branch counts its visit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bus.serde import Event
from tests.adapters.branch.test_mapper_terminals import mapped, reported
from tests.processors.kpis.test_ledger import Pipeline

DAY = datetime(2026, 12, 2, tzinfo=UTC)
INTERACTION = "omnibus.contact.InteractionRecorded"


def contacts(transaction_id: Any = "T-100", **overrides: Any) -> list[Event]:
    return [out.event for upload in reported(transaction_id) for out in mapped(upload, **overrides).events
            if out.event.schema == INTERACTION]


@pytest.mark.parametrize("transaction_id", ["T-100", 1], ids=["text", "whole-number"])
def test_the_reported_sample_each_branch_counts_its_visit(transaction_id: Any) -> None:
    pipeline = Pipeline()
    for event in contacts(transaction_id):
        pipeline.feed(event)
    for branch in ("B-0001", "B-0002"):
        assert pipeline.day("BRANCH", branch, DAY).get("contacts") == 1, branch


def test_a_re_sent_visit_still_counts_once() -> None:
    pipeline = Pipeline()
    first = contacts()[0]
    assert pipeline.feed(first) and not pipeline.feed(first)
    assert pipeline.day("BRANCH", "B-0001", DAY).get("contacts") == 1


def test_the_bare_ids_of_before_lost_one_visit_the_case_this_guards() -> None:
    """With the bare id the two visits are one contact (``bus.contact_versions.contact_key``): the later one is read
    as its newer version and replaces it, so the two branches count one contact between them."""
    pipeline = Pipeline()
    for event in contacts(scoped_ids_from=datetime(2027, 1, 1, tzinfo=UTC)):
        pipeline.feed(event)
    counted = [pipeline.day("BRANCH", branch, DAY).get("contacts", 0) for branch in ("B-0001", "B-0002")]
    assert sum(counted) == 1

"""Two counter terminals' equal transaction ids are two contacts: identity keeps their two customers apart.

The reported sample: terminals CT-0001-01 and CT-0002-01 both uploaded a transaction ``T-100`` (or ``1``) on one day,
for two customers with two phones. The contacts carried the bare transaction id, so identity's versions of one
contact (``graph/versions.py``: one contact id, one contact) took the second for a corrected version of the first:
``ContactMoved`` (rule ``corrected-version``) and ``CustomerMerged``, both phones on one customer. The branch adapter
now scopes the contact id by its terminal (``adapters.base.issuers``); an adapter that still published bare ids (the
``bare`` control, an event before ``scoped_ids_from``) shows the merge this test guards against.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from bus.serde import Event
from processors.identity.graph.outputs import ContactMoved
from tests.adapters.branch.test_mapper_terminals import mapped, reported
from tests.processors.identity.graph.test_seek import OBSERVED, contact_ids, root
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

CONTACTS = "contact.events.v1"
LATER = datetime(2027, 1, 1, tzinfo=UTC)  # every visit before it: the ids as published before they were scoped


def published(upload: dict[str, Any], **overrides: Any) -> list[tuple[Event, str]]:
    """What the branch adapter publishes for ``upload``, with the topic identity reads each from."""
    return [(out.event, OBSERVED if out.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for out in mapped(upload, **overrides).events if not out.event.schema.startswith("omnibus.marketing")]


def run(items: list[list[tuple[Event, str]]]) -> Harness:
    h = Harness(settings())
    for visit in items:
        for event, topic in visit:
            h.feed(event, topic)
    h.local.run()
    h.local.check_consistent()
    return h


def customers(h: Harness) -> tuple[str, str]:
    first, second = h.customer("PHONE", "+33612349301"), h.customer("PHONE", "+33612349302")
    assert first is not None and second is not None
    return root(h, first), root(h, second)


@pytest.mark.parametrize("transaction_id", ["T-100", 1], ids=["text", "whole-number"])
@pytest.mark.parametrize("order", list(itertools.permutations((0, 1))), ids=["first-first", "second-first"])
def test_the_reported_sample_two_terminals_same_transaction_id_stay_two_customers(
        transaction_id: Any, order: tuple[int, int]) -> None:
    visits = [published(upload) for upload in reported(transaction_id)]
    h = run([visits[i] for i in order])
    first, second = customers(h)
    assert first != second
    assert not h.decisions(ContactMoved)
    assert contact_ids(h, first) == {f"counter:CT-0001-01:{transaction_id}"}
    assert contact_ids(h, second) == {f"counter:CT-0002-01:{transaction_id}"}


def test_the_bare_ids_of_before_merged_them_the_case_this_guards() -> None:
    h = run([published(upload, scoped_ids_from=LATER) for upload in reported()])
    first, second = customers(h)
    assert first == second and h.decisions(ContactMoved)

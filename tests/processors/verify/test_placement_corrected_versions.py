"""``omnibus verify`` after a counter transaction corrected with another phone (``graph/versions.py``, rule
``corrected-version``).

The reported sample: the first upload with Ana's phone opened a case; the correction (a new ``event_id``, another
phone: a typo, another customer's number) stood on another customer with the tracker's next status change, and
verify failed "every event of one contact is placed on one customer" (10 events on 2 customers). Run through the
processor and recomputed, in every arrival order, it verifies.
"""

from __future__ import annotations

import uuid

import pytest

from bus.serde import Event

from processors.verify.placement import HANDOFF_WITH_CONTACT, ONE_CONTACT
from tests.processors.identity.graph.test_corrected_versions import (
    CONTACTS,
    HANDOFFS,
    OBSERVED,
    ORDERS,
    PEDRO_PHONE,
    TYPO_PHONE,
    scene,
)
from tests.processors.identity.graph.test_handoff_moves import placed
from tests.processors.identity.support import matcher_settings
from tests.processors.verify.operator_runs import Run
from tests.processors.verify.support import CONTACTS_IN, HANDOFFS_IN, INPUT

TOPICS = {OBSERVED: INPUT, CONTACTS: CONTACTS_IN, HANDOFFS: HANDOFFS_IN}


@pytest.mark.parametrize("corrected_phone", [TYPO_PHONE, PEDRO_PHONE])
@pytest.mark.parametrize("order", ORDERS[::3], ids="-".join)
def test_a_corrected_upload_with_another_phone_verifies(order: tuple[str, ...], corrected_phone: str) -> None:
    items = scene(corrected_phone)
    run = Run(config=matcher_settings())
    for name in ("pedro", *order) if "pedro" in items else order:
        for event, topic in items[name]:
            run.feed(event, TOPICS[topic])
    run.feed(*tracker_names_its_placement(run, items))
    report = run.verified()
    assert report.ok, report.lines()
    assert report.check(ONE_CONTACT).checked >= 1 and report.check(HANDOFF_WITH_CONTACT).checked >= 1


def tracker_names_its_placement(run: Run, items: dict[str, list[tuple[Event, str]]]) -> tuple[Event, str]:
    """The tracker's next status change of the case, naming the customer its directory reads from identity's
    placement of the latest ``HandoffCreated`` (a moved copy before the original: ``handoffs.directory``): where the
    correction stood, before, so the case's later events went there (the reported 10 events on 2 customers)."""
    latest = next(e for e, topic in items["v2"] if topic == HANDOFFS)
    where = placed(run.harness, latest)
    customer = ([c for c, moved_from in where if moved_from] or [c for c, _ in where])[-1]
    last = items["status"][-1][0]
    envelope = {**last.value["envelope"], "event_id": str(uuid.uuid4())}
    return Event(last.schema, {**last.value, "envelope": envelope, "version": last.value["version"] + 1,
                               "customer_id": customer}), HANDOFFS_IN

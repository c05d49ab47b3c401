"""The counter kind of a housemate's call (``graph/test_seek.py``): a new user's Paul and Marie, served at a branch
with their family phone, both landed on one customer. A counter transaction names the visit's
``IdentifiersObserved`` with the traits the customer gave the clerk (``adapters/branch/mapper.py``), and identity
joins the two as it joins a call and its IVR record (``intake.CALLER_RECORDS``, ``graph/contact_join.py``)."""

from __future__ import annotations

import itertools
import uuid

import pytest

from bus.serde import Event
from tests.processors.identity.graph.test_evidence import ANN, BOB
from tests.processors.identity.graph.test_seek import (
    ANN_ACCOUNT,
    BOB_ACCOUNT,
    FAMILY_PHONE,
    OBSERVED,
    contact_ids,
    observed,
    resolved_to,
)
from tests.processors.identity.support import Harness, interaction
from tests.processors.identity.support import matcher_settings as settings

ORDERS = list(itertools.permutations(("ann", "bob", "visit", "traits")))


def records(customer: dict[str, str]) -> dict[str, tuple[Event, str]]:
    correlation = str(uuid.uuid4())
    sibling = observed([FAMILY_PHONE], customer, 10, channel="BRANCH", correlation_id=correlation)
    visit = interaction([FAMILY_PHONE], channel="BRANCH", kind="COUNTER_TRANSACTION", name="sim-replacement",
                        minutes=10, interaction_id="TX-1")
    visit.value["envelope"]["correlation_id"] = correlation
    visit.value["traits_event_id"] = sibling.value["envelope"]["event_id"]
    return {"ann": (observed([ANN_ACCOUNT, FAMILY_PHONE], ANN, 0), OBSERVED),
            "bob": (observed([BOB_ACCOUNT, FAMILY_PHONE], BOB, 1), OBSERVED),
            "visit": (visit, "contact.events.v1"), "traits": (sibling, OBSERVED)}


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(order) for order in ORDERS])
def test_a_housemates_counter_transaction_with_the_family_phone_is_on_his_screen_pop_in_every_order(
        order: tuple[str, ...]) -> None:
    h = Harness(settings())
    events = records(BOB)
    for name in order:
        event, topic = events[name]
        h.feed(event, topic=topic, settle=True)
    h.local.run()
    h.local.check_consistent()
    ann, bob = h.customer(*ANN_ACCOUNT), h.customer(*BOB_ACCOUNT)
    assert ann is not None and bob is not None and ann != bob
    assert resolved_to(h, events["visit"][0]) == {bob}
    assert contact_ids(h, bob) == {"TX-1"} and contact_ids(h, ann) == set()

"""A twin's call from the family phone goes to that twin, not the other (a new user's Tim's call landed on Tom: same
birth date, and "Tim" read as a typo of "Tom"). Two real first names are two people (``matching/given_names.py``),
so only the twin the IVR's name fits takes the call (``graph/seek.py``), in any arrival order."""

from __future__ import annotations

import itertools
import random
import uuid

import pytest

from bus.serde import Event
from tests.processors.identity.graph.test_evidence import ANN
from tests.processors.identity.graph.test_seek import FAMILY_PHONE, OBSERVED, contact_ids, observed, resolved_to
from tests.processors.identity.support import Harness, interaction
from tests.processors.identity.support import matcher_settings as settings

TOM = {"given_name": "Tom", "family_name": "Roy", "birth_date": "1995-03-03", "address_line": "1 Main Street",
       "postcode": "75001"}
TIM = {**TOM, "given_name": "Tim"}
ACCOUNTS = {"ann": ("ACCOUNT", "1000001"), "tom": ("ACCOUNT", "2000002"), "tim": ("ACCOUNT", "3000003")}
ORDERS = sorted(random.Random(8).sample(list(itertools.permutations(("ann", "tom", "tim", "call", "ivr"))), 12))


def records(caller: dict[str, str]) -> dict[str, tuple[Event, str]]:
    correlation = str(uuid.uuid4())
    sibling = observed([FAMILY_PHONE], caller, 10, channel="CALL_CENTER", correlation_id=correlation)
    contact = interaction([FAMILY_PHONE], minutes=10, interaction_id="call-1")
    contact.value["envelope"]["correlation_id"] = correlation
    contact.value["traits_event_id"] = sibling.value["envelope"]["event_id"]
    people = {"ann": ANN, "tom": TOM, "tim": TIM}
    return {**{name: (observed([ACCOUNTS[name], FAMILY_PHONE], people[name], minute), OBSERVED)
               for minute, name in enumerate(("ann", "tom", "tim"))},
            "call": (contact, "contact.events.v1"), "ivr": (sibling, OBSERVED)}


def _cases() -> list[object]:
    """Every order with each twin calling. Known residual (#8 point 5, the order2 notes): when the other twin's
    record came before the call and the caller's own record after it, the call is applied to the other twin, whose
    customer is the only one the phone knows then (no link is decided, so nothing weighs the names)."""
    cases: list[object] = []
    for order in [("ann", "tom", "tim", "call", "ivr"), *ORDERS]:
        for caller, other in (("tim", "tom"), ("tom", "tim")):
            residual = order.index(other) < order.index("call") < order.index(caller)
            marks = [pytest.mark.xfail(reason="the caller's record came after the call and the twin's before it: "
                                       "#8 point 5 residual", strict=False)] if residual else []
            cases.append(pytest.param(order, caller, marks=marks, id=f"{caller}:{'-'.join(order)}"))
    return cases


@pytest.mark.parametrize(("order", "caller"), _cases())
def test_a_twins_call_from_the_family_phone_is_on_that_twins_screen_pop(order: tuple[str, ...], caller: str) -> None:
    h = Harness(settings())
    events = records(TIM if caller == "tim" else TOM)
    for name in order:
        event, topic = events[name]
        h.feed(event, topic=topic, settle=True)
    h.local.run()
    h.local.check_consistent()
    customers = {name: h.customer(*ACCOUNTS[name]) for name in ACCOUNTS}
    assert len(set(customers.values())) == 3, customers
    assert resolved_to(h, events["call"][0]) == {customers[caller]}
    assert contact_ids(h, customers[caller]) == {"call-1"}

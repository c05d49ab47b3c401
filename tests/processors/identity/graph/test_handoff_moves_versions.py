"""A handoff opened during a call whose earlier version the latest-version rule moves follows the call
(``versions.py``, ``handoff_moves.py``).

The tester's F13 call from the family phone: first without IVR data (Ann's, the keeper's), then updated with Bob's
name and birth date (Bob's); the earlier version moves to Bob. The agent opened a handoff during the call (the phone,
the call's ContactId as its origin); it must end on Bob's screen pop with the call, in every order.
"""

from __future__ import annotations

import itertools

import pytest

from tests.processors.identity.graph.test_contact_versions import records
from tests.processors.identity.graph.test_handoff_moves import HANDOFFS, dispute, handoffs, placed, stands_on
from tests.processors.identity.graph.test_seek import ANN_ACCOUNT, BOB_ACCOUNT, FAMILY_PHONE, contact_ids
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

# Opened during the call's first version; Ann's record before the call's versions. (With Ann's record after them,
# the call is never on Ann: it stays on the phone's first customer, Bob's or its own, when Ann's earlier record claims
# the phone, as a call that told its person; a handoff without the call's traits (``traits_event_id``) that comes
# after the claim goes to Ann through the phone. That is the handoff's own placement, not a move of its call.)
ORDERS = [order for order in itertools.permutations(("ann", "bob", "v1", "v2", "handoff"))
          if order.index("v1") < order.index("handoff") and order.index("ann") < min(order.index("v1"),
                                                                                    order.index("v2"))]


@pytest.mark.parametrize("order", ORDERS, ids="-".join)
def test_the_handoff_ends_with_the_call_on_bob_in_every_order(order: tuple[str, ...]) -> None:
    events = records()
    call = next(e for e, topic in events["v1"] if topic == "contact.events.v1")
    opened, (routed, acked, _) = dispute(str(call.value.get("contact_id") or call.value.get("interaction_id")),
                                         identifiers=(FAMILY_PHONE,))
    events["handoff"] = [(opened, HANDOFFS), (routed, HANDOFFS)]
    h = Harness(settings())
    for name in order:
        for event, topic in events[name]:
            h.feed(event, topic)
    h.local.run()
    ann, bob = h.customer(*ANN_ACCOUNT), h.customer(*BOB_ACCOUNT)
    assert ann is not None and bob is not None and ann != bob
    assert contact_ids(h, ann) == set() and len(contact_ids(h, bob)) == 1
    assert handoffs(h, ann) == [] and handoffs(h, bob) == ["h-dispute"]
    for event in (opened, routed):  # on Bob's stream with the call (tester24 F6)
        assert stands_on(h, event, bob), (event.schema, placed(h, event))
    h.local.check_consistent()

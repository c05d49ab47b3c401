"""A handoff opened during a contact a claim moves follows it (``claim_node.on_give``, ``handoff_moves.py``).

Ann's record made her customer with the family phone; Bob's earlier record claims it. An untold call from the phone
follows the phone to Bob (``test_claim_node_order.py``); the handoff the agent opened during the call (with the phone)
follows the call, in every order of the call, the handoff's events (creation before status) and Bob's record.
"""

from __future__ import annotations

import itertools

from bus.serde import Event
from tests.processors.identity.graph.test_claim_node import BOB, PHONE
from tests.processors.identity.graph.test_claim_node_order import BOBS, CONTACTS, ann
from tests.processors.identity.graph.test_handoff_moves import HANDOFFS, dispute, ends_on, handoffs, placed
from tests.processors.identity.graph.test_split_contacts import contact_ids
from tests.processors.identity.support import Harness, envelope, ident, interaction, matcher_settings


def test_in_every_order_the_handoff_ends_with_the_call_on_bob() -> None:
    bob = Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope("WEB", minutes=1), "identifiers": [ident(*BOBS), ident(*PHONE)], "traits": BOB})
    call = interaction([PHONE], interaction_id="CALL", minutes=7)
    opened, (routed, acked, _) = dispute("CALL", identifiers=(PHONE,))
    items = [(bob, "identity.observed.v1"), (call, CONTACTS), (opened, HANDOFFS), (routed, HANDOFFS)]
    for order in itertools.permutations(items):
        if order.index(items[2]) > order.index(items[3]):
            continue  # the tracker announces a status only after it read the creation
        case = [event.schema.rsplit(".", 1)[1] for event, _ in order]
        h = Harness(matcher_settings())
        anns = ann(h)
        for event, topic in order:
            h.feed(event, topic)
        bobs = h.customer(*BOBS)
        assert bobs is not None and h.customer(*PHONE) == bobs and contact_ids(h, bobs) == ["CALL"], case
        assert handoffs(h, anns) == [] and handoffs(h, bobs) == ["h-dispute"], case
        assert ends_on(h, opened, bobs, anns), (case, placed(h, opened))
        assert ends_on(h, routed, bobs, anns), (case, placed(h, routed))  # tester24 F6
        h.feed(acked, HANDOFFS)
        assert {c for c, _ in placed(h, acked)} == {bobs} and handoffs(h, bobs) == ["h-dispute"], case
        h.local.check_consistent()

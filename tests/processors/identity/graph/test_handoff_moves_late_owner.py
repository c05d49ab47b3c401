"""A handoff opened during a contact the late-owner rule moves follows it (``late_owner.py``, ``handoff_moves.py``).

The family e-mail is Ann's; a trait-less call carries it and Bob's phone, nobody's yet: it lands on Ann. The agent
opened a handoff during the call (with the same identifiers). Bob's record then makes the phone his, and the call
moves to Bob: the handoff, on Ann's screen pop and stream before, goes with it, in every order of the call, the
handoff's events (its creation before its status, as the tracker announces them) and Bob's record.
"""

from __future__ import annotations

import itertools

from tests.processors.identity.graph.test_handoff_moves import HANDOFFS, dispute, ends_on, handoffs, placed
from tests.processors.identity.graph.test_late_owner import ANN, BOB, CONTACT_ID, CONTACTS, record
from tests.processors.identity.graph.test_seek import contact_ids, root
from tests.processors.identity.support import Harness, interaction, matcher_settings

FAMILY_EMAIL, BOBS_PHONE = ("EMAIL", "famille.moreau@example.fr"), ("PHONE", "+33622000042")


def test_in_every_order_the_handoff_ends_with_the_call_on_bob() -> None:
    call = interaction([FAMILY_EMAIL, BOBS_PHONE], minutes=1440, interaction_id=CONTACT_ID)
    opened, (routed, acked, _) = dispute(CONTACT_ID, identifiers=(FAMILY_EMAIL, BOBS_PHONE))
    items = [(call, CONTACTS), (opened, HANDOFFS), (routed, HANDOFFS), record("u-bob", BOB, 1500, BOBS_PHONE)]
    for order in itertools.permutations(items):
        if order.index(items[1]) > order.index(items[2]):
            continue  # the tracker announces a status only after it read the creation (one partition, in order)
        case = [event.schema.rsplit(".", 1)[1] for event, _ in order]
        h = Harness(matcher_settings())
        h.feed(*record("u-ann", ANN, 0, FAMILY_EMAIL))
        h.feed(*record("u-bob", BOB, 1, FAMILY_EMAIL))
        for event, topic in order:
            h.feed(event, topic)
        ann, bob = (root(h, h.customer("USER_ID", user) or "") for user in ("u-ann", "u-bob"))
        assert ann != bob and contact_ids(h, bob) == {CONTACT_ID} and not contact_ids(h, ann), case
        assert handoffs(h, ann) == [] and handoffs(h, bob) == ["h-dispute"], case
        assert ends_on(h, opened, bob, ann), (case, placed(h, opened))
        assert ends_on(h, routed, bob, ann), (case, placed(h, routed))  # tester24 F6
        h.feed(acked, HANDOFFS)
        assert {c for c, _ in placed(h, acked)} == {bob} and handoffs(h, bob) == ["h-dispute"], case
        h.local.check_consistent()

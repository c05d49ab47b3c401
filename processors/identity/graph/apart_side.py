"""Where an event goes when an ``offer`` keeps its two customers apart (``customer_merge.on_offer``): the side
another event of its contact made (``own_side``), else the side it reached first unless its traits fit the other
side only (``belongs``).
"""

from __future__ import annotations

from processors.identity.graph.customer_steps import Node, contested
from processors.identity.graph.evidence import fits
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.steps import Offer


def own_side(saga: Saga, survivor: str, survivor_made_for: bytes, loser: str, loser_made_for: bytes) -> str | None:
    """The side another event of the saga's contact with the same identifiers made (``saga.contact_mark``), if one
    did: that event's pending identifiers were kept apart from the other side (a weight, a review, a limit) or got
    there after it, and it was applied to the customer it made. When the two stay apart (the ``offer`` weighs them
    otherwise than that event's ``join`` did: a merge takes the whole contact along), the contact's next events go
    there too, with the claims the decision gives them: one call, visit or message on one customer in every arrival
    order (tester22 F2: the son's new customer and his father's weighed 3.9 bits in the ``offer``, a review, and the
    visit's interaction and handoff went to the father while its transaction stayed on the son's customer)."""
    if not saga.contact or saga.proposal:
        return None
    return survivor if survivor_made_for == saga.contact else loser if loser_made_for == saga.contact else None


def belongs(ctx: Node, saga: Saga, message: Offer, current: str, other: str) -> str:
    """Where an event whose two customers stay apart goes: to the side it reached first (``current``: the owner of
    its highest-priority linking identifier, ``saga.plan``), unless its traits do not fit there and do fit the other
    side. The rule for a contact carrying identifiers of two customers kept apart by any rule (split, rejected review,
    weight, limit; tester10 #1, ``README.md``); a split places a contact that came before it the same way
    (``split_contacts.leaving``). Which side it reached first depends on who owned
    its identifiers then (a family e-mail's owner); whose traits it carries does not: a person's record that
    came through the housemate's family e-mail still feeds its own person's summary (issue #8 build 5)."""
    if not saga.traits or saga.proposal:
        return current
    own, loser = ctx.state.traits, message.traits
    current_traits, other_traits = (loser, own) if message.swapped else (own, loser)
    if not fits(ctx, saga.traits, current_traits) and fits(ctx, saga.traits, other_traits):
        # Kept apart from ``current`` as another person: had it come first, its own customer would hold the
        # identifiers that brought it there; it claims those it ranks first on (claim_node.py), as after a refusal.
        current_members = message.members if message.swapped else ctx.state.members
        for key in saga.ids:
            if key in current_members and key not in saga.lookup_only:
                contested(saga, key)
        return other
    return current

"""A claim that an earlier event overtook: the owner it reached merges into the claimant where time order would have
joined them (issue #8 point 5).

A claim (``claim_node.py``) moves an identifier only while its event still ranks first on it: once an earlier event
visited the identifier, that event's customer claims it or holds it, and the claim is dropped. Where the earlier event
was applied to the owner the claimant was kept apart from, that drop decides by arrival. The scene: a call from a phone
makes a customer of the phone alone (no trait); a web login of the same person (the phone, a family name, a user id)
joins it, weighed against a customer with no trait, a review: the login's customer claims the phone. Meanwhile the
same person's counter visit (the phone, the family name), earlier by event time, reaches the phone and is placed on
the call's customer. In time order the visit came first and made the customer of the phone and the family name, and
the login joined it as one person (``contest.held_whole``); arriving in this order, the claim was dropped and the
login stayed apart from its own visit and call (``omnibus verify`` reported it on fault-free traffic).

The rule: such a claim still reaches the owner, marked ``Give.later`` (``on_claim``). The owner merges into the
claimant, as a claim that ranks first merges a customer holding only the claimed identifier (``claim_node.on_give``),
when it holds nothing but the identifier (which the claimant's event carried) and its traits agree with the claimant's
(``contest.agrees``: one field exact or close, none different): what ``held_whole`` rules where the join meets it in
time order. Otherwise nothing moves: the reservation ends and the earliest event's customer keeps the identifier, as
before (a housemate's visit with another given name or birth date keeps the family phone apart from the login).
"""

from __future__ import annotations

from processors.identity.graph.contest import agrees
from processors.identity.graph.customer_node import Node
from processors.identity.graph.messages.claims import Give

SUFFIX = "~late"  # the reservation token of an overtaken claim (``claim_node.on_claim``), apart from the claim's own


def overtaken(first_rank: int | None, rank: int) -> bool:
    """Whether an earlier event (``first_rank``, the identifier's) visited since the claim's event (``rank``)."""
    return first_rank is not None and rank > first_rank


def merges(ctx: Node, message: Give) -> bool:
    """Whether the owner of a claim an earlier event overtook merges into the claimant (module docstring); if not, the
    reservation ends and the identifier stays here."""
    state = ctx.state
    return message.since is None and not message.kept and list(state.members) == [message.identifier] \
        and agrees(ctx, message.traits, state.traits)

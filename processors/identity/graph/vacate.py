"""A corrected version's customer gives back what the version took (issue #8, "One customer"; a counter upload
corrected with another customer's phone).

A counter transaction uploaded again with its phone corrected (a typo fixed, or another customer's number) is a
later version of the same contact: ``versions.py`` moves it to the customer of its first version (rule
``corrected-version``). But the correction's events were applied first where their own identifiers led: a customer
the correction made, which, its traits another person's than the phone's billing holder's, claimed the phone
(``claim_node.py``: a person's own contact takes a family member's phone from the account holder). Once the contact
left, that customer had no name, no account and no contact, and kept the holder's number: his calls landed on it.

So a corrected version never takes an identifier from the customer that held it:

* ``moved`` at the customer a ``corrected-version`` move leaves: each identifier it holds that the moved version
  carried is given back (``Claim`` with ``vacated_by``, to the identifier's node). When it holds nothing the version
  did not bring (``CustomerState.vacated``), what a claim of the version's gives it later is given back as well;
* ``on_vacate`` at the identifier's node: while that customer still holds it and a claim took it from another
  customer (``IdentifierState.claimed_from``, while that claim's assignment stands), it goes back there as a claim
  moves it (reserved, ``give`` to the holder, ``adopt`` at the other). A customer left with that identifier alone
  merges into its holder (``claim_node.on_give``'s dissolve): nothing is left of it, and the version's events still
  on their way follow the contact's move from there (``move_contact.follow``).

An identifier nobody held before the version stays on the customer the version made for it, as an unknown number's
first contact makes one, without the contact: the next contact or record that carries it (its holder's own call)
finds it there. Not on the first version's customer: nothing of that customer's own confirms the new identifier (the
clerk typed it), and a holder's record or contact that comes later would claim it apart again, the contact's
versions then on two customers. Not unplaced: the version's events still on their way carry it and would each make
a customer of their own. The case keeps its first version's identifiers; where its later notices go after a
correction is the tracker's (``docs/handoffs.md``, "A corrected contact identifier").

Known limit: where the version was applied before the holder's own record reached identity, no claim took the
identifier (the record ranks after a person's own contact, ``limits.key_rank``), so it stays with the version's
customer; an operator merges that customer into the holder's (``omnibus identity merge``).

Idempotent: the node's step token derives from the move's announcement, the identifier and its version; a copy that
finds the identifier moved on does nothing.
"""

from __future__ import annotations

from processors.identity.graph.context import Ctx, node_digest, recalls, remember
from processors.identity.graph.customer_steps import Node
from processors.identity.graph.limits import member_rank
from processors.identity.graph.messages.base import ContactRecord
from processors.identity.graph.messages.claims import CLAIM_PREFIX, Claim, Give
from processors.identity.graph.state import IdentifierState


def moved(ctx: Node, going: list[ContactRecord], announcement: str, channel: str) -> None:
    """After a ``corrected-version`` move took the records ``going`` off this customer (``announcement``: the
    ``ContactMoved`` id): the identifiers they carried that it holds are given back (the module's rules)."""
    state = ctx.state
    carried = {key for record in going for key in record.ids} & set(state.members)
    state.vacated = carried == set(state.members)  # nothing of its own (or nothing yet: the version's claim to come)
    for key in sorted(carried):
        give_back(ctx, key, announcement, channel)


def adopted(ctx: Node, key: str, event_id: str, channel: str) -> None:
    """After this customer admitted ``key`` (a claim's ``adopt``): given back if a corrected version's move left the
    customer with nothing of its own (``CustomerState.vacated``)."""
    if ctx.state.vacated and key in ctx.state.members:
        give_back(ctx, key, event_id, channel)


def give_back(ctx: Node, key: str, event_id: str, channel: str) -> None:
    """Ask member ``key``'s node to give it back to the customer a claim took it from (``on_vacate``)."""
    ctx.send(key, Claim("", member_rank(ctx.state.members[key]), event_id, channel, vacated_by=ctx.key))


def on_vacate(ctx: Ctx[IdentifierState], message: Claim) -> None:
    """At the identifier's node: the customer ``message.vacated_by`` gives it back (the module's rules)."""
    state = ctx.state
    if state.reserved_by:
        ctx.defer(message)  # a saga's reservation or a move: decide once it ends
        return
    before = state.claimed_from
    if state.owner != message.vacated_by or before is None or before[1] != state.version or before[0] == state.owner:
        return  # moved on since, or no claim took it from another customer: it stays
    token = f"{CLAIM_PREFIX}{message.event_id}~vacate~{node_digest(ctx.key)}~{state.version}"  # no identifier value
    if recalls(state.recent, token):
        return
    state.recent = remember(state.recent, token, ctx.graph.dedupe_window)
    state.reserved_by = token
    ctx.send(state.owner, Give(ctx.key, before[0], message.rank, message.event_id, message.channel, message.attempt,
                               token))

"""A housemate's record on the family identifier goes to the housemate, not to nobody (issue #8, "a housemate's call").

A record whose identifiers are all household ones (``Apply.household_only``: a call from the family phone with the
name and birth date the caller gave the IVR) reaches the customer that keeps them. When its traits are another
person's there (``contest.another_person``), that customer does not apply it; it sends ``seek`` to the household
identifier it holds. The identifier node knows the customers kept apart from its keeper through it
(``IdentifierState.kept_apart``: the housemates) and offers the record to each in turn, and to its owner (a claim
may have moved it since the keeper refused the record); sorted ids, those tried left out. The first whose trait
summary it fits (``fits_person``: the matcher does not refuse them and a field that tells people apart agrees)
applies it as its own and claims the household identifiers it ranks first on; one that does not sends it back
with itself in ``tried``. When none is left, the identifier *parks* it (``Housemates.parked``, at most
``MAX_PARKED``, the oldest dropped first; ``Unresolved`` once) and offers it to the next customer noted there
(``note``) or made its owner (``assign``): in the orders where the housemate's own record comes after the call, or
a claim moves the identifier, the call follows.

The rule, the same final attribution in every arrival order: **a household-only record goes to the customer on
that identifier whose person its traits are, and waits on the identifier (parked, on nobody's screen pop) while
there is none.** It is never applied where its traits are another person's (``contest.another_person``: no field
that tells people apart agrees, or the given names are two real, different first names, ``contest.twin_names``:
twins share surname, address and birth date). So Tim's call from the family phone is not applied to Tom when Tom's
record came first and Tim's comes later: it waits on the phone and Tim's customer takes it when the ``note`` of his
refusal through the phone arrives (``offer_parked``); nothing has to be taken back from Tom's screen pop or re-keyed
on ``customer.contacts``. Where the call came before every record, its own customer (without identifiers once the
earlier records claim the phone, ``claim_node.on_give``) is merged by blocking into its person's customer. A record
whose person never comes stays unresolved (or on that customer of its own). Limit: one person's record whose given
name was mistyped into another real first name ("emiel" for Émile) reads as another person's and waits too, as the
matcher reads it (``matching/given_names.py``).

At-least-once: a copy of a ``seek`` applies the record twice to one profile (sections are idempotent and the
contact keeps its event id, as for ``apply``) or parks it once (parked records are kept by event id).
"""

from __future__ import annotations

import msgspec

from processors.identity.graph.context import Ctx
from processors.identity.graph.customer_node import on_apply
from processors.identity.graph.customer_steps import route
from processors.identity.graph.messages import Seek
from processors.identity.graph.outputs import Unresolved
from processors.identity.graph.state import CustomerState, Housemates, IdentifierState
from processors.identity.matching.compare import trait_levels
from processors.identity.matching.traits import Summary
from processors.identity.matching.weights import Decision

MAX_PARKED = 4  # housemates' records one identifier keeps until a customer they fit is kept apart through it


def fits_person(ctx: Ctx[CustomerState], traits: Summary | None) -> bool:
    """Whether a record's ``traits`` are this root's person: both sides have traits, the matcher does not refuse
    them as one, and a field that tells people apart (``match_person_fields``: given name, birth date) agrees."""
    known = ctx.state.traits
    if not traits or not known:
        return False
    matcher = ctx.policy.matcher
    levels = trait_levels(traits, known, matcher.thresholds)
    return matcher.decide(matcher.weigh(levels)) is not Decision.REFUSE and matcher.person_evidence(levels)


def on_seek_identifier(ctx: Ctx[IdentifierState], message: Seek) -> None:
    """Offer the record to the next customer kept apart through this identifier, or park it."""
    state = ctx.state
    # The customers kept apart through it, and its owner: a claim may have moved it since the keeper refused it.
    candidates = sorted(key for key in {*state.kept_apart, state.owner} if key and key not in message.tried)
    if candidates:
        ctx.send(candidates[0], msgspec.structs.replace(message, tried=_with(message.tried, candidates[0])))
        return
    event_id, box = message.apply.event_id, state.housemates or Housemates()
    if any(parked.apply.event_id == event_id for parked in box.parked):
        return  # a copy
    if not message.parked:
        ctx.emit(Unresolved(event_id, message.apply.started_at))  # on no screen pop until a housemate takes it
    parked = [*box.parked, msgspec.structs.replace(message, parked=True)][-MAX_PARKED:]
    state.housemates = msgspec.structs.replace(box, parked=parked)


def offer_parked(ctx: Ctx[IdentifierState], customer: str) -> None:
    """A customer was newly kept apart through this identifier (``note``) or became its owner (``assign``: a claim
    moved it from the keeper that refused the records): offer it the parked records it has not tried."""
    box = ctx.state.housemates
    if box is None:
        return
    offered = [parked for parked in box.parked if customer not in parked.tried]
    if not offered:
        return
    ctx.state.housemates = msgspec.structs.replace(
        box, parked=[parked for parked in box.parked if parked not in offered])
    for parked in offered:
        ctx.send(customer, msgspec.structs.replace(parked, tried=_with(parked.tried, customer)))


def on_seek_customer(ctx: Ctx[CustomerState], message: Seek) -> None:
    """Apply the record here if its traits are this customer's person; otherwise send it back."""
    if not route(ctx, message):
        return  # deferred (created later, or locked by a merge) or forwarded to the root
    if ctx.key in message.tried[:1] or not fits_person(ctx, message.apply.traits):
        # The keeper itself (a housemate merged into it), or another person: the identifier tries the next one.
        ctx.send(message.identifier, msgspec.structs.replace(message, tried=_with(message.tried, ctx.key)))
        return
    # Its own person's record: applied as if it had come here and been refused at the keeper on evidence of two
    # people: this customer claims the household identifiers it ranks first on (the earliest event's person keeps
    # them, claim_node.py), as it does in the orders where the record made or met this customer first.
    apply = message.apply
    on_apply(ctx, msgspec.structs.replace(apply, claims=apply.lowered, household_only=False, kept_apart=[]))


def _with(tried: list[str], key: str) -> list[str]:
    return tried if key in tried else [*tried, key]

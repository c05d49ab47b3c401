"""A login whose person fits two household members' records waits for review, in every order (twin-like siblings).

Two siblings of one given name (born apart) have billing records with the family e-mail; identity keeps it on one
record's customer and the other apart through it. A portal login with the family e-mail and ``firstName`` "Lea" may
be either sibling's, yet the matcher merges it with whichever record it meets (the given name and the e-mail agree):
in time order (the records at night, the login in the morning) it joined the e-mail's keeper, and ``holders.py``
weighs the other holder only where the keeper refused it; where the login came before a record, the merge stood on
the given name, not on the e-mail's ``login`` level, so ``logins.py`` never noted it and the second record moved
nothing. Measured before this rule: the login merged into a record in 6 of 6 orders, no review.

The e-mail's node keeps each event's person evidence (``IdentifierState.people``: the traits that tell people apart
and the identifiers limited to one). A login's evidence that tells its person (a given name or a birth date,
``holder_review.tells_person``) **fits two** when two evidences kept there without a login (two records) are two
people (``evidence.two_people``) and neither is two people with the login's. The rule, whatever arrived first:

1. at the login's visit (``at_visit``), the node marks the saga (``Saga.fits_two``); a merge through that identifier
   is capped at review (``capped``): ``customer_join`` and ``customer_merge`` ask for the review and the login's side
   neither claims the identifier nor is noted beside its keeper (``holders.py`` would propose it with the other holder
   and merge it there); so it is on a later visit where an operator rejected that review (``marked``);
2. when a record's evidence makes a login kept on the node fit two (``leaving``: the login came first), the node tells
   its owner (``Shared`` with ``household``, ``fits_two`` naming the login's user ids) and the owner moves a login it
   holds to a customer of its own with the contacts that follow it and asks for the review (``login_leaves.py``).

So the login ends on a customer of its own, with one review naming a record, and the e-mail on a record, in every
order. A login whose evidence one record does not fit (another given name, another birth date) is not marked: it
joins its own person's record as before (``test_holders.py``). A login that tells no person is the household rule's
(``holder_review.py``, ``logins.py``). Not covered: identifiers other than its user ids that the login brought to the
record's customer before the second record came stay there (as in ``logins.py``); an evidence list past
``evidence.MAX_EVIDENCE`` keeps only evidences that conflict with every one kept.
"""

from __future__ import annotations

import msgspec

from bus.identifiers.kinds import USER_ID
from processors.identity.graph.context import Ctx
from processors.identity.graph.evidence import MAX_EVIDENCE, person_of, two_people
from processors.identity.graph.holder_review import tells_person
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.steps import Shared
from processors.identity.graph.state import IdentifierState
from processors.identity.graph.state_parts import Person
from processors.identity.matching.weights import Decision
from processors.identity.rules import kind_of

Node = Ctx[IdentifierState]


def at_visit(ctx: Node, saga: Saga) -> None:
    """At an identifier the matcher reads at a ``login`` level (the e-mail): keep the evidence of an event
    without a login that tells its person (``IdentifierState.named``); mark the saga of a login that fits two of them
    (point 1); tell the owner of the logins kept in ``people`` that a new one makes fit two (point 2)."""
    state = ctx.state
    if kind_of(ctx.key) not in ctx.policy.matcher.login_kinds:
        return
    person = person_of(ctx, saga, holder=True)
    if person is None or not _telling(ctx, person):
        return
    if _login(person):
        if len(state.named) > 1 and _fits_two(ctx, person):
            saga.fits_two |= 1 << saga.visited
        return
    if person in state.named:
        return
    state.named = sorted([*state.named, person], key=msgspec.msgpack.encode)[:MAX_EVIDENCE]
    if state.owner and person in state.named and (logins := leaving(ctx, person)):
        ctx.send(state.owner, Shared(ctx.key, household=True, event_id=saga.event_id, channel=saga.channel,
                                     fits_two=logins))


def leaving(ctx: Node, record: Person) -> list[str]:
    """The user ids of the logins kept on this node (``people``) that fit two people now that ``record`` (an evidence
    without a login) is kept: it and another kept in ``named`` are two people, and the login's fits both."""
    state = ctx.state
    others = [known for known in state.named if two_people(ctx, record, known)]
    if not others:
        return []
    return sorted({key for login in state.people if _login(login) and _telling(ctx, login)
                   and not two_people(ctx, login, record) and any(not two_people(ctx, login, other) for other in others)
                   for key in login.ids if kind_of(key) == USER_ID})


def capped(saga: Saga, culprit: str | None, decision: Decision) -> bool:
    """Whether a merge (``decision``) through ``culprit`` is capped at review: its node marked the saga (point 1)."""
    return decision is Decision.MERGE and marked(saga, culprit)


def marked(saga: Saga, culprit: str | None) -> bool:
    """Whether ``culprit``'s node showed the saga's login fitting two people's records (``Saga.fits_two``)."""
    return culprit is not None and culprit in saga.ids and bool(saga.fits_two >> saga.ids.index(culprit) & 1)


def _fits_two(ctx: Node, login: Person) -> bool:
    """Whether two evidences of ``named`` are two people and neither is two people with ``login``."""
    fitting = [known for known in ctx.state.named if not two_people(ctx, login, known)]
    return any(two_people(ctx, one, other) for index, one in enumerate(fitting) for other in fitting[index + 1:])


def _login(person: Person) -> bool:
    return any(kind_of(key) == USER_ID for key in person.ids)


def _telling(ctx: Node, person: Person) -> bool:
    return tells_person(ctx.policy.matcher, person.traits)

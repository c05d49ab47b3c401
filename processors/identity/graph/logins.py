"""A login placed by a mailbox alone leaves it once the mailbox shows two people (portal-login F10 follow-up).

The e-mail's ``login`` level (``matching/compare.login_level``) joins a portal login that brings only the e-mail a
system of record registered to that record's customer, unless the mailbox's node held evidence of two people at the
event's visit (``Saga.households``: weighed at ``agree``, a review). Whether it does depends on what arrived before:
a housemate's login that came after the holder's billing line and before his own line (the same family mailbox,
another customer number) joined the holder's customer and stayed there, while in time order (both lines at night,
the login in the morning) it waited for review on its own customer; it joined the housemate's customer in the orders
where his line came first. Issue #8 point 5: the same input in any order gives the same clusters.

So a root that merges through an e-mail at the ``login`` level, where the same pair weighed with that e-mail at
``agree`` (as a household's) would not merge (``stood_on``), notes the e-mail and the members of the login's side
(``CustomerState.logins``; moves with ``Offer.logins``). When the mailbox's node keeps a record's evidence of
another person than one it kept without a login (``evidence.another_record``: a housemate's billing line) it tells
its owner (``Shared`` with ``household``), and the root (``login_leaves.py``) moves the noted members it still
holds to a customer of their own, with the contacts that follow them (``customer_split.split_off``, not kept
apart), and asks for the review time order asks for (``evidence.kept_apart``: ``match-review`` of the e-mail, the
pair named by each side's highest-priority member). The review names the customer the login was on; in time order,
the mailbox's keeper: which record's customer it names may differ by order, the clusters do not.

A login saga that read the mailbox as one person's and is decided after the node told the owner otherwise (the events
in flight together across partitions) does not merge through it: the root keeps the mailboxes it was told of
(``CustomerState.households``, moved with ``Offer.households``) and weighs them as households' (``evidence.judge``).
Not covered: identifiers the login's later events brought to the merged customer stay there; which record's
customer the review names, and whether there are one or two reviews (the login against each), depend on the order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from bus.identifiers.kinds import USER_ID
from processors.identity.graph.state import CustomerState
from processors.identity.matching.compare import Level
from processors.identity.matching.weights import Decision, MatchScore
from processors.identity.rules import kind_of


def stood_on(score: MatchScore, ids_a: Iterable[str], ids_b: Iterable[str],
             weigh: Callable[[list[str]], Decision]) -> list[str]:
    """The identifier keys in common at the ``login`` level on which a merge with ``score`` stood: ``weigh`` (the
    decision with those keys weighed as a household's, at ``agree``) does not merge. Empty if none is at that level
    or the merge stands without it (names, a customer number in common)."""
    kinds = {kind for kind, level in score.levels.items() if level is Level.LOGIN}
    if not kinds:
        return []
    keys = sorted(key for key in set(ids_a) & set(ids_b) if kind_of(key) in kinds)
    return keys if keys and weigh(keys) is not Decision.MERGE else []


def note(state: CustomerState, keys: list[str], side_a: Iterable[str], side_b: Iterable[str]) -> None:
    """Note, for each mailbox of ``keys``, the members of the merge's side that holds a login (``side_a`` or
    ``side_b``), the mailboxes left out: they leave together if the mailbox shows two people."""
    first, second = list(side_a), list(side_b)
    side = first if any(kind_of(key) == USER_ID for key in first) else second
    for key in keys:
        state.logins[key] = sorted({*state.logins.get(key, ()), *(other for other in side if other not in keys)})


def merge(state: CustomerState, theirs: Mapping[str, list[str]], households: Iterable[str]) -> None:
    """At a merge's survivor: the loser's notes (``Offer.logins``) and mailboxes known to be households
    (``Offer.households``) join its own."""
    for key, side in theirs.items():
        state.logins[key] = sorted({*state.logins.get(key, ()), *side})
    state.households = sorted({*state.households, *households})

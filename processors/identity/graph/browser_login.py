"""Whose browser it is: an anonymous id is its user's whose login came first on it (issue #8 point 5).

An anonymous id (``rules.UNTOLD_KINDS``: a browser, a device) ranks by time like any identifier (``limits.tells``: its
earliest event that carried another identifier, ``IdentifierState.first_rank``; customer roots keep that rank for
their members). Which customer keeps it when two are kept apart through it is decided by a second rank, its *login
rank*: the smallest rank (``limits.key_rank``) of the events that carried it with a user id (an identify or a track of
a logged-in user, an alias naming it as ``previousId``), kept in the node's state (``IdentifierState.login_rank``;
None: no login carried it yet, or a state of an earlier version). A login is stronger evidence of whose the browser
is than an e-mail typed on it anonymously: a housemate's browser that typed the family e-mail before its user logged
in stays with its user, not with the housemate who logged in with that e-mail (tester50 F7).

* At a visit (``identifier_node._lower_rank``): a login that sets or matches the login rank ranks first on the browser
  (``Saga.lowered``: its customer claims it where it was kept apart through it); an event without a user id does not,
  once a login ranked it, whatever its time (it still lowers ``first_rank``, the time the browser came).
* At a claim (``claim_node.on_claim``): where a login ranked the browser, the claim of that login's event moves it;
  a later login's is overtaken (``late_claim.py``). A user-less event that ranks first by time still claims it
  (``Saga.untold_first``, not ``lowered``: it ranks first nowhere else); the claim names the claimant's user ids
  (``Claim.users``, ``users``) and moves the browser, by ``first_rank`` as before, only where the login's user is
  among them; otherwise it is dropped. Without a login rank, the earliest event's claim moves it as before.
* At the owner (``claim_node.on_give``): where a user-less event ranked the browser before its login (the login's
  claim is overtaken by ``first_rank``: ``Give.later`` and ``Give.login``), the browser leaves alone only where a
  user id the owner holds ranks before the login, or the owner holds no e-mail or phone (``goes_alone``); otherwise
  the claim is decided as an overtaken one, as before: in time order the login joined the browser's anonymous
  history, and a user ranked after it gives way (``displace.py``). Order bench: 94 -> 89 differing draws, none
  newly; moving the browser alone at every login's claim gave 88, but 8 alias and displace order tests differed
  (``tests/bench/results/identity_email_order.md``, branches order46 and order50).

Where no different user logged in on either browser, an e-mail typed on two still joins them (nothing claims).
"""

from __future__ import annotations

from collections.abc import Iterable

from bus.identifiers.kinds import USER_ID
from processors.identity.graph.limits import claimable, member_rank
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.claims import Give
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.identity.rules import UNTOLD_KINDS, LinkPolicy, kind_of


def user_of(saga: Saga) -> str | None:
    """The user id the event carried (an identify, a logged-in track, an alias: its ``userId``), or None."""
    return next((key for key in saga.ids if kind_of(key) == USER_ID), None)


def at_visit(state: IdentifierState, key: str, saga: Saga, rank: int) -> bool | None:
    """The login rule at a visit of the event ``saga`` (ranking ``key`` ``rank``) to ``key``'s node: True where the
    event ranks first as a login (the node's ``login_rank`` set or lowered to ``rank``, or already ``rank``), False
    where a login ranked ``key`` before it (the event does not rank first, whatever its time), None where the rule
    does not decide (not an anonymous id, or a user-less event on a browser no login ranked: by time)."""
    if kind_of(key) not in UNTOLD_KINDS:
        return None
    user = user_of(saga)
    if user is None:
        return False if state.login_rank is not None else None
    if state.login_rank is not None and rank > state.login_rank:
        return False
    state.login_rank, state.login_user = rank, user
    return True


def claim_decides(state: IdentifierState, rank: int) -> bool | None:
    """The login rule at a claim of ``rank`` on a node of ``state``: None where no login ranked it (the earliest
    event's claim decides, by ``first_rank``); else whether the claim is the login rank's own (False: another
    event's, a later login's or a user-less one's)."""
    if state.login_rank is None:
        return None
    return rank == state.login_rank


def goes_alone(policy: LinkPolicy, state: CustomerState, message: Give) -> bool:
    """Whether the giver of ``state`` hands a browser over alone (not as an overtaken claim, ``late_claim.py``) at a
    claim its login rank decided over an earlier user-less event (``Give.login``): where a user id it holds ranks
    before the claim (``Give.rank``: in time order that user was there when the login came, the login was kept apart
    and its claim takes the browser), or where it holds no e-mail or phone (``limits.claimable``, not an anonymous
    id: nothing the user-less event typed is here). Otherwise the login joined the browser's user-less history in
    time order, and a user id ranked after it gives way (``displace.py``): decided as an overtaken claim, as before."""
    if not message.login:
        return False
    members = state.members
    return any(kind_of(key) == USER_ID and 0 < member_rank(value) < message.rank for key, value in members.items()) \
        or not any(claimable(policy, key) and kind_of(key) not in UNTOLD_KINDS for key in members)


def users(claimed: str, members: Iterable[str]) -> list[str]:
    """The user ids among a claimant's ``members`` that its claim of ``claimed`` names (``Claim.users``), sorted: for an
    anonymous id only (``rules.UNTOLD_KINDS``; empty otherwise)."""
    return sorted(key for key in members if kind_of(key) == USER_ID) if kind_of(claimed) in UNTOLD_KINDS else []


def left_behind(members: Iterable[str]) -> list[str]:
    """The browsers (anonymous ids) among a customer's ``members`` that a displaced resident user id's customer
    claims as logins (``Claim.login``, ``displace.split_off``): each moves only where the resident's login ranked it
    first (S4 of ``tests/processors/identity/graph/test_household_scenes.py``), sorted."""
    return sorted(key for key in members if kind_of(key) in UNTOLD_KINDS)


def not_held(members: Iterable[str]) -> list[str]:
    """The members that keep a name observation with the customer when others leave (``split_traits.staying``): not
    its browsers, which tell no person (one may follow a leaving user whose login it is), sorted."""
    return sorted(key for key in members if kind_of(key) not in UNTOLD_KINDS)

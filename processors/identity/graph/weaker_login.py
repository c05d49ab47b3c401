"""Of two portal logins that reach one known customer, the one its evidence agrees with keeps it (tester27 F1).

The e-mail's ``login`` level (``matching/compare.login_level``, ``logins.py``) joins a login that brings only the
e-mail a system of record registered to that record's customer. A second login reaching the customer is refused by
the one-login limit (two user ids are two people), and ``displace.py`` lets the login whose earliest event ranks
first keep it. So a login that carried the holder's e-mail alone, earlier or first to arrive, kept the bank's master
record, and the holder's own login (his e-mail, name, birth date and mobile, about +23 bits) was refused; which of
the two kept the record depended on the arrival order, and a rebuild (``omnibus verify``) disagreed with the live
graph. Evidence decides, not arrival:

* a login that would join on the login level alone (``stands_on_login``: the merge, weighed with the e-mail as a
  household's, does not hold) never displaces a resident login that joined on more (``strong``: not noted in
  ``CustomerState.logins``), whatever their ranks (``displace.py`` asks ``holds``);
* a resident login that joined on the login level alone (noted in ``logins``) gives way to a login whose event the
  matcher merges with what stays without it, not on the login level alone (``at_join``, ``at_offer``): it leaves for
  a customer of its own with what only it brought, not what the arriving event carries (``displace.split_off``:
  announced as the limit's refusal of the resident, ``other_customer_id`` its new customer; no do-not-merge).

The record's mobile and e-mail stay with the record's holder in every order: the weaker login's customer never
claims them (``master.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from processors.identity.graph import logins
from processors.identity.graph.customer_steps import Node, waived
from processors.identity.graph.evidence import judge
from processors.identity.graph.limits import conflict, give_way, member_rank, rank_of
from processors.identity.graph.messages.base import Member, Saga
from processors.identity.graph.messages.steps import Offer
from processors.identity.matching.compare import Level, login_level
from processors.identity.matching.traits import Summary
from processors.identity.matching.weights import Decision
from processors.identity.rules import kind_of

USER_ID = "USER_ID"


def stands_on_login(ctx: Node, traits_a: Summary | None, traits_b: Summary | None, ids_a: list[str],
                    ids_b: list[str], saga: Saga | None = None) -> bool:
    """Whether the matcher merges the two sides on the e-mail's login level alone (``logins.stood_on``)."""
    decision, score = judge(ctx, traits_a, traits_b, ids_a, ids_b, saga)
    if decision is not Decision.MERGE:
        return False

    def weigh(also: list[str]) -> Decision:
        return judge(ctx, traits_a, traits_b, ids_a, ids_b, saga, also=also)[0]

    return bool(logins.stood_on(score, ids_a, ids_b, weigh))


def strong(noted: Mapping[str, list[str]], resident: str) -> bool:
    """Whether the login ``resident`` joined its customer on more than the login level (``noted``: the customer's
    ``CustomerState.logins``, mailbox -> the members of the login's side)."""
    return not any(resident in side for side in noted.values())


def holds(ctx: Node, noted: Mapping[str, list[str]], members: Iterable[str], traits_a: Summary | None,
          traits_b: Summary | None, ids_a: list[str], saga: Saga | None = None) -> bool:
    """Whether the resident login among ``members`` (traits ``traits_b``) stays against an arriving login whose side
    ``ids_a`` (traits ``traits_a``) would join what stays of them without it (its logins): it joined on more than the
    login level (``noted``: its customer's ``logins``), and the arriving one meets a known customer at that level
    (``compare.login_level``: what stays holds no login and a record's key) and would not join on more."""
    held = list(members)
    residents = [key for key in held if kind_of(key) == USER_ID]
    rest = [key for key in held if kind_of(key) != USER_ID]
    if len(residents) != 1 or not strong(noted, residents[0]):
        return False
    at_login = login_level({kind_of(key) for key in ids_a}, {kind_of(key) for key in rest}) is Level.LOGIN
    return at_login and not _outweighs(ctx, traits_a, traits_b, ids_a, rest, saga)


def _weak_side(noted: Mapping[str, list[str]], members: Iterable[str], keep: set[str]) -> list[str]:
    """The members of the login side noted for the customer's only user id, the mailbox and ``keep`` left out; empty
    when the resident joined on more (or there is no single resident)."""
    held = set(members)
    residents = [key for key in held if kind_of(key) == USER_ID]
    if len(residents) != 1 or strong(noted, residents[0]):
        return []
    side = {key for mailbox, keys in noted.items() if residents[0] in keys for key in keys}
    return sorted(key for key in side & held if key not in keep and key not in noted)


def at_join(ctx: Node, saga: Saga, added: list[str], culprit: str, linking: Iterable[str]) -> list[str]:
    """The members that give way to the login among ``added`` (an event's pending identifiers meeting this customer
    through ``culprit``): the resident login's side when it joined on the login level alone and the event joins what
    stays on more; else none."""
    if len([key for key in added if kind_of(key) == USER_ID]) != 1:
        return []
    state = ctx.state
    moving = _weak_side(state.logins, state.members, {culprit, *linking, *saga.ids})
    rest = [key for key in state.members if key not in moving]
    if not moving or not rest:
        return []
    kept = {key: state.members[key] for key in rest}
    ranks = {key: rank_of(ctx.policy, saga, key) for key in added}
    if conflict(ctx.policy, kept, ranks, waived(saga)) is not None or culprit in give_way(
            ctx.policy, kept, ranks, waived(saga)):
        return []
    return moving if _outweighs(ctx, saga.traits, state.traits, [*added, culprit], rest, saga) else []


def at_offer(ctx: Node, saga: Saga, message: Offer) -> list[str]:
    """At the survivor of an offer whose loser brings a login: the survivor's resident login's side, as at a join."""
    culprit = message.culprit
    if culprit is None or saga.proposal:
        return []
    if len([key for key in message.members if kind_of(key) == USER_ID]) != 1:
        return []
    state = ctx.state
    moving = _weak_side(state.logins, state.members, {culprit, *saga.ids})
    rest = [key for key in state.members if key not in moving]
    if not moving or not rest:
        return []
    kept = {key: state.members[key] for key in rest}
    ranks = {key: member_rank(value) for key, value in message.members.items()}
    if conflict(ctx.policy, kept, ranks, waived(saga)) is not None:
        return []
    return moving if _outweighs(ctx, message.traits, state.traits, [*message.members, culprit], [*rest, culprit],
                                saga) else []


def at_offer_loser(ctx: Node, saga: Saga, message: Offer) -> list[str]:
    """At the survivor of an offer, itself holding a login: the loser's resident login's side (``Offer.logins``)
    when it joined the loser on the login level alone and the survivor joins what stays of the loser on more."""
    culprit = message.culprit
    state = ctx.state
    if culprit is None or len([key for key in state.members if kind_of(key) == USER_ID]) != 1:
        return []
    moving = _weak_side(message.logins, message.members, {culprit, *saga.ids})
    rest = [key for key in message.members if key not in moving]
    if not moving or not rest:
        return []
    if conflict(ctx.policy, _members(message.members, rest), dict.fromkeys(state.members, 0), ()) is not None:
        return []
    return moving if _outweighs(ctx, state.traits, message.traits, [*state.members, culprit], [*rest, culprit]) \
        else []


def _members(members: Mapping[str, Member], keys: Iterable[str]) -> dict[str, Member]:
    return {key: members[key] for key in keys}


def _outweighs(ctx: Node, traits_a: Summary | None, traits_b: Summary | None, ids_a: list[str], ids_b: list[str],
               saga: Saga | None = None) -> bool:
    """Whether the matcher merges the sides on more than the login level."""
    if judge(ctx, traits_a, traits_b, ids_a, ids_b, saga)[0] is not Decision.MERGE:
        return False
    return not stands_on_login(ctx, traits_a, traits_b, ids_a, ids_b, saga)

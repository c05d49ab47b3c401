"""An offer one side of which holds nothing its event does not carry: weighed and kept apart as the event's join.

A page view of an anonymous id ``x0`` makes a customer ``{x0}`` and nothing else. An event ``{x0, e0}`` that comes
after it meets that customer through ``x0`` and the login's customer ``{u-2, e0}`` through ``e0``: an ``offer`` of the
two customers, weighed with ``x0`` on both sides (the trained weight of an anonymous id agreeing, a merge). Arriving
before the page view, the same event joins the login's customer with ``x0`` new; a member planned before the linking
``e0`` (the user id) makes that join weighed (``customer_join.weighed_the_other_way``): ``{x0, e0}`` against
``{u-2, e0}``, a review, and the event keeps ``x0`` on a customer of its own. The page view told nothing the event
does not carry (no trait, no identifier but ``x0``), so whether it was read first must not decide: the offer is
decided as that join (issue #8 point 5, bench draw 905: ``{u-2, e0}`` t0, ``track x0`` t1, ``{x0, e0}`` t2,
``{x9, e0}`` t3).

The side counts as the event's where an event made it (``CustomerState.made_for``: not a customer a split or a claim
left), its members are all among the event's identifiers and its traits all among the event's, and nothing its events
carried is kept elsewhere (``elsewhere``) or left it (``split_off``, its own or the other side's): a customer made by an
event carrying more (``{x9, e1}`` kept apart from ``e1``'s customer, or ``{x1, e1}`` whose ``e1`` a still earlier login
claimed) told more, and stays an offer's side (bench draws 1706, 94 with its last event twice, 517).
The join's conditions read the other side's state: this root's, or what the offer carries of the offering one.

A side counts as the event's too where it held nothing at the event's rank (``held_after``): every member ranks at or
after the event, so what it holds came with events ranked after it, and in time order the event met the other side
alone, in a join (bench draw 2183's core: ``{x2, u-1, e0}`` t0, ``{x0, e0}`` t1, ``{x0, e1}`` t2 arriving t0, t2, t1:
t1's offer met ``{x0, e1}``, made by t2). Its traits must still be among the event's: a side that tells a person the
event does not stays an offer's side (read as the event's join, the quality bench merged a household pair). An
event ranked before the decided one that arrives after it and carries a member of that side (the side held it then:
an offer in time order) has the pair proposed again where the decided event told no person (``kept_side.py``).
"""

from __future__ import annotations

from typing import NamedTuple

from processors.identity.graph.customer_join import weighed_the_other_way
from processors.identity.graph.customer_steps import Node
from processors.identity.graph.evidence import fits, judge
from processors.identity.graph.limits import BANDS, member_rank, saga_rank
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.steps import Offer
from processors.identity.graph.state import CustomerState
from processors.identity.matching.traits import Summary
from processors.identity.matching.weights import Decision, MatchScore


class EventSide(NamedTuple):
    """The side of an offer that holds nothing its event does not carry (``event_only``): ``loser`` whether it is the
    offering customer; ``ids`` its members with the event's ``linking`` identifiers (those the other side holds, in
    the event's order); ``other`` the other side's state as far as the offer tells it (members, traits, ranks)."""

    loser: bool
    ids: list[str]
    linking: list[str]
    other: CustomerState


def event_only(ctx: Node, message: Offer, saga: Saga) -> EventSide | None:
    """The side holding nothing the event does not carry, where the event's join at the other side would be weighed
    (``customer_join.weighed_the_other_way``, with traits that fit there); ``None`` otherwise, and for a blocking or
    review proposal (no event) or an offer without a linking identifier."""
    if message.culprit is None or saga.proposal:
        return None
    state = ctx.state
    offering = CustomerState(members=message.members, traits=message.traits, elsewhere=message.elsewhere,
                             ranks_applied=message.ranks_applied, came_with=message.came_with, joined=message.joined,
                             split_off=message.split_off, made_for=message.made_for)
    for loser, mine, other in ((True, offering, state), (False, state, offering)):
        if not mine.members or not mine.made_for or mine.elsewhere or mine.split_off:
            continue  # not made by an event, or its events carried more (kept elsewhere, split or claimed off)
        if not told(mine.traits, saga.traits) or not (set(mine.members) <= set(saga.ids) or held_after(mine, saga)):
            continue  # it tells what the event does not, or holds what it does not carry and held some at its rank
        if any(key in other.split_off for key in mine.members):
            continue  # the other side split them off: they came with an event of its own, which carried more
        linking = [key for key in saga.ids if key in other.members and key not in mine.members]
        if linking and fits(ctx, saga.traits, other.traits) \
                and weighed_the_other_way(ctx.policy, other, saga, other.members, linking):
            return EventSide(loser, [*mine.members, *linking], linking, other)
    return None


def held_after(side: CustomerState, saga: Saga) -> bool:
    """Whether every member of ``side`` ranks at or after the event of ``saga`` (ranks without their bands): at the
    event's rank the side held nothing, so whatever it holds came with events ranked after it."""
    rank = saga_rank(saga) & BANDS
    return all(member_rank(value) & BANDS >= rank for value in side.members.values())


def weigh(ctx: Node, side: EventSide, saga: Saga, also: list[str]) -> tuple[Decision, MatchScore]:
    """The matcher on the event's join at the other side: its traits and ``side.ids`` against that side's summary and
    members (``customer_join.on_join``'s weighing); ``also``: keys weighed as a household's (``evidence.judge``)."""
    return judge(ctx, saga.traits, side.other.traits, side.ids, list(side.other.members), saga, also=also)


def told(traits: Summary | None, event: Summary | None) -> bool:
    """Whether every value of ``traits`` (a side's summary) is among the event's ``event``."""
    known = event or {}
    return all(set(values) <= set(known.get(code, ())) for code, values in (traits or {}).items())

"""Which of an event's identifiers decides its customer: one person's own, before one several people share.

A telecom family plan (tester F2): Frank, Grace and Hugo each have their own customer (their own user id, e-mail and
mobile) and share the billing account FAM-100, which Frank keeps and the others are kept apart through. A call from
Grace's own line whose IVR gave only the account carries both. By priority alone (ACCOUNT > PHONE) the account was
planned first, so the call landed on Frank and Grace's line was refused against him and flagged shared on both screen
pops. An identifier whose node held evidence of two people or more at the visit (``Saga.households``, set by
``identifier_node.on_visit``: the people counted towards ``shared_after``, ``evidence.count_person``) says less about
who this is than one that only one person's events carried, whatever its type and priority: so the owned household
identifiers are planned after the owned ones that are not (``unshared_first``). The event then lands on the
unshared identifier's customer, and the shared one is the identifier the link is refused through (noted on the
screen pops as it is already). ``PRIORITIES`` still orders identifiers of one kind (both household or both not).

When the household identifier is all that leads to a customer and the event tells no person (no traits, no user id
or national ID: a call from an unknown number with the account), it lands on that identifier's keeper as before, but
its new identifiers do not join the keeper (``untold_through_shared``; an event that tells its person is weighed as
before): nothing says the number is the keeper's rather than a housemate's. They are released, unowned, and a later
event takes them. Anonymous ids are not released (``saga.advance``): an anonymous id is its earliest login's
(``limits.tells``) and the claim protocol moves it there; released, 5 draws of ``tests/bench/identity_email_order.py``
that agreed differed.
"""

from __future__ import annotations

from collections.abc import Collection

from processors.identity.graph.messages.base import Saga
from processors.identity.rules import LinkPolicy, kind_of


def household_keys(saga: Saga) -> set[str]:
    """The keys of ``saga.ids`` whose node held evidence of two people or more (or was shared) at the visit."""
    return {key for index, key in enumerate(saga.ids) if saga.households >> index & 1}


def unshared_first(order: list[str], household: Collection[str], owned: Collection[str]) -> list[str]:
    """``order`` (the plan by priority) with the owned ``household`` keys moved after the rest, when the event also
    carries an owned key that is no household's: that key's customer is the event's, and the household key links
    (or is refused towards) its keeper after it. Unchanged otherwise, so events that meet no such pair plan as
    before."""
    last = [key for key in order if key in household and key in owned]
    if not last or not any(key in owned and key not in household for key in order):
        return order
    return [key for key in order if key not in last] + last


def untold_through_shared(policy: LinkPolicy, saga: Saga, household: Collection[str], owned: Collection[str]) -> bool:
    """Whether the event reached its customer only through household identifiers and tells no person: no traits
    and no identifier of a type one person holds one of (a user id, a national ID: ``evidence.person_of`` reads
    the same). Its new identifiers then stay unowned instead of joining that customer (a call from an unknown
    number with the family account is not the account keeper's number). With ``unshared_first`` a household key
    is planned before an owned one only when the event holds no owned key outside the households, so this reads
    the whole event."""
    if saga.traits or any(policy.limit(kind_of(key)) == 1 for key in saga.ids if key not in saga.lookup_only):
        return False
    return any(key in household for key in owned) and all(key in household for key in owned)

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
From a billing export (tester18 F4) the account counts only its holder as a person, yet a member's mobile its lines
carried keeps the holder apart: for an event that tells no person the account is then a household one too
(``used_by_others``).

When the household identifier is all that leads to a customer and the event tells no person (no traits, no user id
or national ID: a call from an unknown number with the account), it lands on that identifier's keeper as before, but
its new identifiers do not join the keeper (``untold_through_shared``; an event that tells its person is weighed as
before): nothing says the number is the keeper's rather than a housemate's. They are released, unowned, and a later
event takes them; a contact placed so on the keeper then moves to the owner of the first of them (``late_owner.py``),
where it lands when that event comes first (tester20 F1). Anonymous ids are not released (``saga.advance``): an
anonymous id is its earliest login's (``limits.tells``) and the claim protocol moves it there; released, 5 draws of
``tests/bench/identity_email_order.py`` that agreed differed. Not when those household identifiers are fixed lines and
the event brings an account (a claimable identifier) nobody holds yet (``past_the_line``): a landline is every
housemate's, the account names the caller, so the event goes to a customer of its own with the account, as it would
have had it come before the housemates' records (tester20 F2: Bob's own account, given from the landline after his
name call made it two people's, stayed on the keeper; his record then took the account and left the call there).
"""

from __future__ import annotations

from collections.abc import Collection

from processors.identity.graph.limits import claimable, tells_person
from processors.identity.graph.messages.base import Saga
from processors.identity.rules import UNTOLD_KINDS, LinkPolicy, household_line, kind_of


def household_keys(policy: LinkPolicy, saga: Saga, owned: Collection[str]) -> set[str]:
    """The keys of ``saga.ids`` whose node held evidence of two people or more (or was shared) at the visit, and the
    owned ones another person uses too (``used_by_others``)."""
    return {key for index, key in enumerate(saga.ids) if saga.households >> index & 1} | used_by_others(
        policy, saga, owned)


def used_by_others(policy: LinkPolicy, saga: Saga, owned: Collection[str]) -> set[str]:
    """The ``owned`` keys of a claimable type (several people may hold one: an account, not a user id) of an event
    that tells no person (``tells_person``), when it also carries a key planned after them that another customer
    owns, that is no household's and that kept someone apart from its owner at the visit (``Saga.apart``).

    A telecom billing export names the account holder beside each member's mobile (tester18 F4): a line is about the
    account, so only the holder is counted as a person on the mobile (``evidence.person_of``), and the member who
    keeps the mobile keeps the holder apart through it. The account is then one the member uses too: for a call from
    her mobile whose IVR took the account it counts as a household identifier, and her mobile decides (it landed on
    the holder by ``PRIORITIES`` before). A joint account's second holder is counted on the account already.

    Keys planned after the witness do not count: once her call landed on her and was refused towards the holder
    through the account, the account keeps her apart too, and the mobile must not count as used by another in turn.
    A fixed line is no witness (``rules.household_line``): each housemate's account line carries the home's, and
    the housemate kept apart through it uses his own account (tester20 F1). Nor is a browser's anonymous id
    (``rules.UNTOLD_KINDS``) for an event that does not rank first on it: one that kept a second login apart says
    the browser is shared, not that the event's e-mail is another person's. Counted, a later ``{browser, e-mail}``
    identify landed on the browser's customer and met the e-mail's through the e-mail alone (+3.85 bits, a review) in
    time order, and through the browser (+6.99 or +10.28, merged) wherever the second login came after it (order bench
    draws 990, 1162, 3088: 112, 109 and 107 of 120 replays differed; ``test_browser_witness_order.py``). The browser's
    earliest event, arriving after both logins, still lands on the customer the browser kept: it claims the e-mail
    there as in time order, where the login that followed it on the browser joined it. It ranks first on the browser
    as a login (``Saga.lowered``) or, user-less, by time once a login ranked it (``Saga.untold_first``,
    ``browser_login.py``; draws 208 and 1995: 15 of 120 replays differ as on main, 19 and 18 with ``lowered`` alone).
    The customers kept apart are not compared with the key's owner: a node notes the customer ids of the time
    (one merged since names its root's alias), and the event has only the owners' ids."""
    if not saga.apart or tells_person(policy, saga):
        return set()  # (no key kept anyone apart: no witness, the common case checked first, #9)
    order = policy.plan_order(saga.ids)
    first = saga.lowered | saga.untold_first  # (ranks first on it: as a login, or by time before any login ranked it)
    witnesses = [key for index, key in enumerate(saga.ids) if saga.apart >> index & 1 and key in owned
                 and not household_line(key) and (kind_of(key) not in UNTOLD_KINDS or first >> index & 1)]
    return {key for key in owned if claimable(policy, key) and any(
        saga.seen[other] != saga.seen[key] and order.index(other) > order.index(key) for other in witnesses)}


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
    if tells_person(policy, saga):
        return False
    return any(key in household for key in owned) and all(key in household for key in owned)


def past_the_line(policy: LinkPolicy, saga: Saga, household: Collection[str], owned: Collection[str]) -> set[str]:
    """The owned keys an untold event (``untold_through_shared``) skips: all of them, when every one is a fixed line
    (``rules.household_line``) and the event carries a new key of a claimable type (an account nobody holds, not an
    anonymous id: ``rules.UNTOLD_KINDS``); none otherwise. Its new keys then make its own customer instead of being
    released; the landline links nobody here (the keeper keeps it; a later record of the caller's is weighed
    against the keeper through it as before)."""
    lines = [key for key in owned if key in household]
    if not lines or not all(household_line(key) for key in lines):
        return set()
    # ``saga.NEW`` (""): nobody held it at the visit (saga.py imports this module).
    new = [key for key in saga.ids if key not in owned and key not in saga.lookup_only
           and saga.seen.get(key) == "" and kind_of(key) not in UNTOLD_KINDS and claimable(policy, key)]
    return set(lines) if new else set()

"""A tenant change on a contract account that keeps its number: the account goes to the new holder (tester33 F3).

A utility's CIS (the brief's) keeps the contract account and the installation when the tenant changes: the old
holder's dated move-out (``AccountClosed``), then a line of the **same** account naming another holder (another
national ID) dated at or after it. ``recycle.py`` moves what a closed account's records gave to a later record of
*another* account; this module adds the same account's next tenancy, order-independent:

* a system of record's dated business event that names its holder (a person key, ``rules.PERSON_KINDS``: the
  national ID, the customer number) notes the holder on its gift (``RecordGift.holder``); an undated one (a layout
  without ``occurred_at``: the file's time), or one naming nobody, does not (it cannot say when its holder came:
  the joint-account rule, the earliest line keeps it);
* at the account's own node its lines are gifts of the account itself (``IdentifierState.records``) and its dated
  closures its ``closures``, so ``recycle.holder_record`` reads the account's holder as it reads a recycled number's:
  the earliest line, until a closure at or after the current tenancy began and a later line of another holder dated
  at or after that closure (``takes_over``), and so on (a second change back);
* the claim of a tenancy goes through the new holder's person key (``claimant``), whose customer is the holder's,
  not through the account, whose owner is the tenant who left; the contacts and facts of the account before the
  move-in stay with the old holder (``claim_node.on_give``'s ``since``), so her bills before it stay on her screen pop
  and the new holder's after it reach his.

A joint account's lines (two holders, no closure between them, or the second dated before the closure) are never
split: no line takes over without a closure before it.
"""

from __future__ import annotations

from processors.identity.graph.messages.base import Saga
from processors.identity.graph.state_parts import RecordGift
from processors.identity.rules import PERSON_KINDS, kind_of

MAX_CLOSURES = 8  # closure instants kept per node (an account's tenancies over its life)


def holder_of(saga: Saga, undated: bool | None) -> str:
    """The person key a record's business event names its holder by (the smallest; "" for none, for an undated event,
    and for ``undated`` None: a record's ``IdentifiersObserved``, which does not say whether its line was dated)."""
    if undated is not False:
        return ""
    return min((key for key in saga.ids if kind_of(key) in PERSON_KINDS), default="")


def tenant_change(earlier: RecordGift, later: RecordGift) -> bool:
    """Whether ``later`` is a line of ``earlier``'s account naming another holder (a tenancy, not another account)."""
    return bool(set(earlier.accounts) & set(later.accounts))


def takes_over(earlier: RecordGift, later: RecordGift, end: int, later_at: int) -> bool:
    """Whether ``later`` (occurred at ``later_at``, epoch µs), a line of the account of ``earlier``, starts a new
    tenancy after the closure at ``end``: it names a holder, another one, and is dated at or after the closure."""
    return bool(later.holder) and later.holder != earlier.holder and later_at >= end


def claimant(earlier: RecordGift, later: RecordGift) -> str:
    """The node whose owner claims what ``later``'s record holds now: its holder's person key for a tenant change
    (the account's owner is the tenant who left), else its account (``recycle.on_recycle``)."""
    return later.holder if tenant_change(earlier, later) and later.holder else later.accounts[0]


def previous(earlier: RecordGift, later: RecordGift) -> str:
    """The node whose owner held it before ``later`` took over (``held_before.py``): ``earlier``'s holder for a
    tenant change, else its account."""
    return earlier.holder if tenant_change(earlier, later) and earlier.holder else earlier.accounts[0]


def closures_with(closures: list[tuple[str, int]], closure: tuple[str, int]) -> list[tuple[str, int]]:
    """``closures`` (``(account, instant)`` pairs, sorted) with one more, the earliest ``MAX_CLOSURES`` by instant."""
    kept = sorted({*closures, closure}, key=lambda item: (item[1], item[0]))[:MAX_CLOSURES]
    return sorted(kept)


def names_nobody(saga: Saga) -> bool:
    """Whether a system of record's event names no holder (a bill, an overdue notice: the account alone): on an account
    a tenant change moved, one that occurred before the move-in is the previous holder's (``recycle.held_then``)."""
    return not holder_of(saga, False)


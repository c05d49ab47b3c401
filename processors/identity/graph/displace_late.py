"""A user id the limit of one refused while a rank was in flight: decided again once that event is applied (#8 point 5).

``displace.at_join`` moves a customer's resident user id out when a user id ranked before it arrives and the
customer's state shows the time-order outcome: every other member ranks before the resident *and* at the rank of
an event applied here (``CustomerState.ranks_applied``). A rank an event lowered at its visit (a ``Rekey``) while
the event's own ``join`` or ``apply`` is still on its way is not final, so the step is refused as before. Bench draw
538 cut to three calls: ``{x1, e1}`` t0, ``{x1, u-1}`` t1, ``{x1, u-2}`` t2. In time order u-1 joins the customer
of the anonymous e-mail and u-2 is refused. Arriving t2 first, then t1 and t0 in flight together (3 partitions),
u-2's event makes ``{x1, u-2}``, t0's and t1's visits lower x1 to t0, and u-1's ``join`` arrives before t0's: x1 ranks
before u-2 but at a rank no event applied yet, so u-1 is refused and stays alone; t0's ``join`` then brings e1 to
u-2's customer, and nothing decides u-1's step again: ``{x1, e1, u-2}``, ``{u-1}``.

Now the refused step is remembered (``CustomerState.awaited``: ``Awaited``, the latest ``MAX_AWAITED``) where it
failed only on those ranks, and the matcher and the limits let it go ahead without the resident
(``displace._leaving``). When the last of those events is applied here (``displace.applied``) and the customer
still holds the same resident at the same rank and the linking identifiers, with every other member now settled
before it (``displace._settled``) and the user id fitting the limits, the resident moves out as at the join
(``displace.split_off``) and the refused user id's customer is linked to this one (``late_saga``: a proposal that
looks the linking identifier and the user id up and links their customers, skipping the weight, which the join
weighed, not the limits). An apply that never comes here (its event went elsewhere) leaves the entry until newer
ones push it out: the refusal stands, as before.
"""

from __future__ import annotations

import hashlib

import msgspec

from processors.identity.graph.context import recalls
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.saga import new_saga
from processors.identity.graph.state import Awaited, CustomerState
from processors.identity.rules import CO_OBSERVED

MAX_AWAITED = 4  # refused steps a root remembers, the latest: an older one is not decided again
TOKEN_PREFIX = "late~"


def note(state: CustomerState, entry: Awaited) -> None:
    """Remember ``entry`` (one per event: a copy of the join replaces its own)."""
    kept = [other for other in state.awaited if other.event_id != entry.event_id]
    state.awaited = [*kept, entry][-MAX_AWAITED:]


def due(state: CustomerState, rank: int) -> list[Awaited]:
    """The entries to decide again now that the event of ``rank`` was applied here (in ``ranks_applied``): those
    whose ranks are all of applied events, and those that awaited no rank (the resident's rank-mate the event
    carried: an earlier event's rank may still lower it)."""
    del rank  # any apply may settle an entry whose ranks were applied before
    return [entry for entry in state.awaited if all(recalls(state.ranks_applied, str(other)) for other in entry.ranks)]


def drop(state: CustomerState, entry: Awaited) -> None:
    """``entry`` is decided (or can no longer be): forgotten."""
    state.awaited = [other for other in state.awaited if other != entry]


def late_saga(entry: Awaited) -> Saga:
    """The link of the refused user id's customer with the customer of the linking identifier: look-up only (never a
    new customer: a user id not yet assigned is waited for, its node reserved by its event), no weight (``force``: the
    join weighed the pair and it merged), the limits checked. Lineage rule ``co-observed``: the refused event carried
    both; its id is a hash of the event and the resident (an identifier value never travels in an id), the same on a
    redelivery."""
    digest = hashlib.sha256(f"{entry.event_id}~{entry.resident}".encode()).hexdigest()[:24]
    saga = new_saga(TOKEN_PREFIX + digest, entry.channel, 0, [], None, 0.0,
                    lookup_only=[entry.linking[0], entry.user])
    return msgspec.structs.replace(saga, proposal=True, rule=CO_OBSERVED, force=True)

"""A contact's events rank as one on the identifiers they carry (tester21 F17).

A call comes as its contact events (``CallCompleted``, ``InteractionRecorded``, a ``HandoffCreated`` opened during
it) and the IVR record whose traits they take (``contact_join.py``); a counter visit as its transaction and the
clerk's record. Each event has its own rank (``limits.event_rank``: the call's instant, then a hash of its event id),
so on the caller's identifier only the events of the call ranking below every event already seen there set the
node's ``first_rank`` (``Saga.lowered``), and only those left a keeper whose person they are not for the call's own
customer (``own_customer.leaves``): Paul's call between Julie's line and his own kept its ``InteractionRecorded`` on
Julie while its ``CallCompleted`` and IVR record went to Paul.

The rule: **an event whose contact holds an identifier's first rank ranks first on it too.** The node notes, with
its ``first_rank``, the contact of the event that set it (``Housemates.first``: a 6-byte hash of the record's event
id, which the contact's events name, ``Saga.traits_of``; emptied when another event sets it); a later event of that
contact that ranks above it notes the identifier in ``Saga.lowered`` without changing the rank. So every event of
the call leaves the keeper, for the one customer seeded with the record's id (``own_customer.leaves``), whatever
their order; only the event that set the rank moves the identifier (a claim carries its event's own rank,
``claim_node.on_claim`` drops the others').

The contact's events visit after its record has set or met the rank: they wait at their first identifier for its
traits (``contact_join.join``), and where they pass a node before the record, the one that sets the rank names the
same contact. Left: a contact that went on without its record's traits (fell off, expired) tells nobody and ranks
nothing (``limits.tells``); an event of another contact at the same microsecond ranking between two of the call's
events, the upper one visiting first, still parts them.
"""

from __future__ import annotations

import msgspec

from processors.identity.graph.context import token_hash
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.state import IdentifierState
from processors.identity.graph.state_parts import Housemates


def contact_of(saga: Saga) -> str | None:
    """The contact ``saga``'s event belongs to, named by the record its traits came from: a contact joined with its
    caller's record (``Saga.traits_of``), or that record itself (``leaves_traits``); None for any other event."""
    if saga.traits_of is not None:
        return saga.traits_of
    return saga.event_id if saga.leaves_traits and saga.traits else None


def set_rank(state: IdentifierState, saga: Saga) -> None:
    """``saga``'s event set the node's ``first_rank``: note its contact (a 6-byte hash), or forget the one noted."""
    contact, box = contact_of(saga), state.housemates
    if contact is not None:
        state.housemates = msgspec.structs.replace(box or Housemates(), first=token_hash(contact))
    elif box is not None and box.first:
        state.housemates = msgspec.structs.replace(box, first=b"")


def ranks_with_its_contact(state: IdentifierState, saga: Saga) -> bool:
    """Whether an event of ``saga``'s contact holds the node's ``first_rank``: ``saga``'s event ranks first with it."""
    contact, box = contact_of(saga), state.housemates
    return contact is not None and box is not None and box.first == token_hash(contact)

"""The graph protocol's messages: one msgspec Struct per kind, a tagged union on the wire.

Every message is encoded as a msgpack array ``[kind, field, field, ...]`` (``array_like``: no field
names on the wire; trailing fields left at their defaults are omitted). ``protocol.md`` is the
catalogue: who sends each kind, to which node, and what the receiver does. Add a field only at the
end of a Struct, with a default, so records already on the graph topic still decode.

The kinds live by group: ``base.py`` (the ``Message`` base, the saga, the records messages carry),
``steps.py`` (an event's way through the graph), ``claims.py`` (a claim of an identifier), ``commands.py``
(operators' split, move-contact and release). This module is the union of them all, and names every kind
(``from ...messages import Visit`` works as before the split).
"""

from __future__ import annotations

from processors.identity.graph.messages import claims, commands, steps
from processors.identity.graph.messages.base import ContactRecord, EventRef, Message, MovedOff, PlacedContact, Saga
from processors.identity.graph.messages.claims import (
    Adopt,
    Claim,
    Closed,
    Give,
    GiveBack,
    HeldBefore,
    HeldUntil,
    MetClaimant,
    Recycle,
)
from processors.identity.graph.messages.commands import (
    Disown,
    MoveContact,
    ReleaseIdentifier,
    Relinquish,
    SplitCustomer,
    SplitInit,
    TakeContact,
)
from processors.identity.graph.messages.steps import (
    Apply,
    Assign,
    AwaitOwner,
    Block,
    Create,
    Evict,
    Fast,
    HandoffPlaced,
    HouseholdCall,
    Join,
    Link,
    Note,
    Offer,
    OfferResult,
    Placed,
    Rejoin,
    Rekey,
    Release,
    Seek,
    Shared,
    Unblock,
    Visit,
)

AnyMessage = (steps.Visit | steps.Assign | steps.Release | steps.Note | steps.Evict | steps.Join | steps.Link
              | steps.Offer | steps.OfferResult | steps.Create | steps.Apply | commands.SplitCustomer
              | commands.SplitInit | steps.Rekey | steps.Rejoin | steps.Block | steps.Unblock | steps.Fast
              | steps.Shared | claims.Claim | claims.Give | claims.Adopt | steps.Seek | commands.MoveContact
              | commands.TakeContact | commands.ReleaseIdentifier | commands.Relinquish | steps.Placed
              | steps.AwaitOwner | commands.Disown | claims.Closed | claims.Recycle | steps.HandoffPlaced
              | steps.HouseholdCall | claims.HeldBefore | claims.HeldUntil | claims.GiveBack
              | claims.MetClaimant)


def kind(message: Message) -> str:
    """The message's tag, e.g. ``"visit"``."""
    config = getattr(type(message), "__struct_config__", None)
    return str(config.tag) if config is not None else type(message).__name__


__all__ = [
    "Adopt", "AnyMessage", "Apply", "Assign", "AwaitOwner", "Block", "Claim", "Closed", "ContactRecord", "Create",
    "Disown", "EventRef", "Evict", "Fast", "Give", "GiveBack", "HandoffPlaced", "HeldBefore", "HeldUntil",
    "HouseholdCall", "Join", "Link", "Message", "MetClaimant", "MoveContact", "MovedOff", "Note", "Offer",
    "OfferResult", "Placed", "PlacedContact", "Recycle", "Rejoin", "Rekey", "Release", "ReleaseIdentifier",
    "Relinquish", "Saga", "Seek", "Shared", "SplitCustomer", "SplitInit", "TakeContact", "Unblock", "Visit", "kind",
]

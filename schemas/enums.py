"""Enum symbol lists read from the contract (``schemas/**/*.avsc``), so code never keeps its own copy.

Every enum in the contract ends in ``UNKNOWN``, the symbol a reader falls back to for a symbol newer than
its schema (the enum's Avro ``default``). The constants below hold the *known* symbols, without it:
what a producer may write on purpose. ``symbols(fullname)`` gives any enum, ``UNKNOWN`` included.

Raises ``schemas.errors.SchemaNotFound`` at import if the contract lost one of these enums.
"""

from __future__ import annotations

import functools

from schemas.catalog import default_catalog
from schemas.errors import SchemaParseError

UNKNOWN = "UNKNOWN"


@functools.cache
def symbols(fullname: str) -> tuple[str, ...]:
    """All symbols of the enum ``fullname`` (e.g. ``omnibus.common.Channel``) in declaration order."""
    schema = default_catalog().get(fullname)
    if schema.schema.get("type") != "enum":
        raise SchemaParseError(schema.path, f"{fullname} is not an enum")
    return tuple(schema.schema["symbols"])


def known_symbols(fullname: str) -> frozenset[str]:
    """The symbols of ``fullname`` without the reader's fallback ``UNKNOWN``."""
    return frozenset(symbols(fullname)) - {UNKNOWN}


IDENTIFIER_TYPES = known_symbols("omnibus.common.IdentifierType")
CHANNELS = known_symbols("omnibus.common.Channel")
ACTOR_KINDS = known_symbols("omnibus.common.ActorKind")
INTERACTION_KINDS = known_symbols("omnibus.contact.InteractionKind")
INTERACTION_OUTCOMES = known_symbols("omnibus.contact.InteractionOutcome")
CALL_INITIATION_METHODS = known_symbols("omnibus.contact.CallInitiationMethod")
QUEUE_TICKET_STATUSES = known_symbols("omnibus.contact.QueueTicketStatus")
COUNTER_TRANSACTION_STATUSES = known_symbols("omnibus.contact.CounterTransactionStatus")
ORDER_STATUSES = known_symbols("omnibus.business.OrderStatus")
CARD_STATUSES = known_symbols("omnibus.business.CardStatus")
OFFER_RESPONSES = known_symbols("omnibus.marketing.OfferResponse")
HANDOFF_STATUSES = known_symbols("omnibus.handoff.HandoffStatus")
CLOSE_REASONS = known_symbols("omnibus.handoff.CloseReason")
NOTIFICATION_KINDS = known_symbols("omnibus.handoff.NotificationKind")
ESCALATION_TRIGGERS = known_symbols("omnibus.handoff.EscalationTrigger")
HOLDER_ROLES = known_symbols("omnibus.common.HolderRole")
# The roles a producer writes by name (a family or joint account's lines: ``adapters/legacy/roles.py``), in the field
# ``HOLDER_ROLE`` of ``AccountOpened``, ``ProductSubscribed`` and ``IdentifiersObserved``.
PAYER, MEMBER = "PAYER", "MEMBER"
HOLDER_ROLE = "holder_role"
if not {PAYER, MEMBER} <= HOLDER_ROLES:
    raise SchemaParseError(default_catalog().get("omnibus.common.HolderRole").path,
                           f"omnibus.common.HolderRole lost {PAYER} or {MEMBER}")

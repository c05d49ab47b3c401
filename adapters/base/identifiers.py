"""What adapters add to the shared normaliser (``bus.identifiers``): Kafka keys and ``IdentifiersObserved``.

Every adapter normalises with ``bus.identifiers.IdentifierNormaliser`` (one rule set with identity) and
publishes what it could not normalise as ``rejected_identifiers`` on an ``IdentifiersObserved`` event,
so a bad value is never dropped without trace while the rest of the record flows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bus.identifiers import Found, Rejected
from bus.producer import Outgoing
from bus.serde import Event

Identifier = dict[str, str]  # an omnibus.common.Identifier record: {"type": ..., "value": ...}
OBSERVED_SCHEMA = "omnibus.contact.IdentifiersObserved"


def key_of(identifier: Mapping[str, str]) -> str:
    """The Kafka key for events keyed by an identifier: ``TYPE:value`` (e.g. ``PHONE:+33612345678``)."""
    return f"{identifier['type']}:{identifier['value']}"


def observed(
    topic: str, envelope: dict[str, Any], found: Found | Sequence[Identifier], traits: Mapping[str, str] | None = None,
    *, rejected: Sequence[Rejected] = (), fallback_key: str,
) -> Outgoing | None:
    """The ``IdentifiersObserved`` of a record, or None when it has no identifier, rejection or trait.

    ``found`` is what the normaliser found (identifiers and rejections), or identifier records plus
    ``rejected``. Keyed by the first identifier, else ``fallback_key`` (the key of the record's other events).
    """
    if isinstance(found, Found):
        records, refused = found.records(), [*found.rejected, *rejected]
    else:
        records, refused = [dict(record) for record in found], list(rejected)
    if not records and not refused and not traits:
        return None
    value = {
        "envelope": envelope, "identifiers": records, "traits": dict(traits) if traits else None,
        "rejected_identifiers": [item.as_record() for item in refused],
    }
    return Outgoing(topic, key_of(records[0]) if records else fallback_key, Event(OBSERVED_SCHEMA, value))

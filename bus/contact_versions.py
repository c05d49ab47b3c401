"""One contact, however many versions of its record: which contact an event is of, and which version is the newer.

A channel reports one contact again once it changed (docs/subscribers.md, "Versions of one contact"): Amazon Connect
re-sends a call's CTR after after-contact work (same ``ContactId``, a later ``LastUpdateTimestamp``), a counter
uploads a corrected transaction (same transaction id, a new ``event_id``). Each version has event ids of its own, and
may carry no ``causation_id`` at all: two call-center adapter replicas each keep their own dedupe file, so the one
that receives a later version may never have seen the earlier one; a corrected upload names none. So the consumers
(the offer processor's contacts, signals and facts, the KPIs, the screen pop's recent contacts, a representative's
pitch in ``bus.offer_presentations``) identify a contact and order its versions here, from what every version's
event carries, never from ``causation_id`` or the order they are read in:

* ``contact_key``: the contact is its channel, its source system and its id within them (``interaction_id`` of an
  ``InteractionRecorded``, ``contact_id`` of a ``CallCompleted``, ``transaction_id`` of a ``CounterTransaction``):
  ``<channel>|<source system>|<id>``. Two versions of one contact share it; two contacts never do (an id is unique
  within its channel and source system: the adapters scope what their issuers number alone).
* ``version_order``: ``(source version, occurred, received)`` in epoch µs; of two versions the greater is the newer.
  The source's own version comes first where the record carries one: a ``source_event_id`` of the form
  ``<record id>@<ISO 8601 instant with its UTC offset>`` (``versioned_id``: a CTR's
  ``ContactId@LastUpdateTimestamp``), else 0. Then ``envelope.occurred_at`` (a corrected counter transaction states
  its own time), then ``envelope.received_at`` (versions stating the same instants: the one received later). A
  record's versions all carry a source version or none, so it decides whenever it is there, whichever adapter
  process received which version, in which order.

An older version read after a newer one changes nothing; a newer one replaces what the older one said (its matter,
outcome, disposition, answer) and is never another contact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bus.clock import to_micros
from bus.serde import Event

CONTACT = "omnibus.contact."
# The field of each contact schema that names its contact (``contact_key``).
CONTACT_ID_FIELDS = {CONTACT + "InteractionRecorded": "interaction_id", CONTACT + "CallCompleted": "contact_id",
                     CONTACT + "CounterTransaction": "transaction_id"}
VERSION_MARK = "@"  # between a record's id and its version's instant in a ``source_event_id`` (``versioned_id``)

VersionOrder = tuple[int, int, int]  # (source version, occurred, received), epoch µs


def versioned_id(record_id: str, version: datetime) -> str:
    """The ``source_event_id`` of one version of a source record that orders its versions by an instant:
    ``<record id>@<ISO 8601 instant>`` (``version`` timezone-aware; raises ``ValueError`` when it is naive)."""
    if version.tzinfo is None:
        raise ValueError("a record's version instant must carry its UTC offset")
    return f"{record_id}{VERSION_MARK}{version.isoformat()}"


def source_version_us(envelope: dict[str, Any]) -> int:
    """The version an event's ``source_event_id`` states (``versioned_id``), epoch µs; 0 when it states none (no
    ``source_event_id``, no ``@``, or what follows the last ``@`` is no ISO 8601 instant with a UTC offset: an
    Asterisk line's digest, a web ``messageId``)."""
    source_event_id = envelope.get("source_event_id") or ""
    _, mark, stated = str(source_event_id).rpartition(VERSION_MARK)
    if not mark or not stated:
        return 0
    try:
        instant = datetime.fromisoformat(stated)
    except ValueError:
        return 0
    return to_micros(instant) if instant.tzinfo is not None else 0


def _micros(instant: datetime | int) -> int:
    return to_micros(instant) if isinstance(instant, datetime) else int(instant)


def version_order(event: Event) -> VersionOrder:
    """``(source version, occurred, received)`` in epoch µs of a decoded event (its instants aware datetimes, or
    already µs): of two versions of one contact (or one pitch) the greater is the newer (the module docstring)."""
    envelope = event.value["envelope"]
    return source_version_us(envelope), _micros(envelope["occurred_at"]), _micros(envelope["received_at"])


def contact_key(event: Event) -> str | None:
    """``<channel>|<source system>|<contact id>``: the contact a contact event (``CONTACT_ID_FIELDS``) reports, the
    same in every version of its record; None for any other event or one naming no contact."""
    field = CONTACT_ID_FIELDS.get(event.schema)
    contact = event.value.get(field) if field else None
    if not contact:
        return None
    envelope = event.value["envelope"]
    return f"{envelope['channel']}|{envelope['source_system']}|{contact}"

"""Who held an identifier at each instant, read back from identity's announcements on ``customer.events.v1``.

An identifier changes hands at two kinds of moments a later reader must place in time (``omnibus verify``: under
which customer a contact that carried it belongs, ``processors.verify.contacts``):

* an operator's release (``omnibus identity release``, ``graph/release.py``; ``releases.announced_releases``): the
  customer it was taken from held it for events that occurred before the release's instant;
* a claim (``CustomerLinked`` of rule ``earliest-claim``, ``graph/claim_node.py``), e.g. a number a system of record
  recycled to a new subscriber (``graph/recycle.py``): the claimant holds it from the instant its triggering event
  occurred (the recycled record's), the customer it was taken from (the giver) before; the giver keeps the contacts
  from before (``split_contacts.hand_over``'s ``since``).

Each such moment closes a tenure: ``Tenure(until, customer_id)``. The giver of a claim is the last other customer
the announcements linked the identifier to before it (``CustomerCreated``, ``CustomerLinked``), in the order they
reached Kafka. The customers named are the running processor's, as announced: a reader follows later merges through
their survivors (``verify.identity_outputs.final_customer``). After the last tenure the identifier's current customer
(``customer.identifiers.v1``) holds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from processors.identity.review import identifier_key
from processors.identity.rules import EARLIEST_CLAIM
from processors.profile.sections._time import micros
from processors.replay import Replayed
from processors.replay.releases import announced_releases, arrived

CREATED = "omnibus.identity.CustomerCreated"  # a customer made with its first identifiers (``identifiers``)
LINKED = "omnibus.identity.CustomerLinked"  # an identifier linked to a customer; a claim's: rule ``earliest-claim``


@dataclass(frozen=True, slots=True)
class Tenure:
    """``customer_id`` (the running processor's, as announced; None: unknown) held the identifier for events that
    occurred before ``until`` (epoch µs), back to the previous tenure's ``until``."""

    until: int
    customer_id: str | None


@dataclass(frozen=True, slots=True)
class HolderHistory:
    """The tenures of each identifier (``TYPE:value`` key) that a release or a claim closed."""

    tenures: dict[str, list[Tenure]] = field(default_factory=dict)

    def held_then(self, identifier: str, instant: int) -> str | None:
        """The customer that held ``identifier`` at ``instant`` (epoch µs): that of the earliest tenure closed after
        ``instant``; None when none was (its current customer holds it) or the announcements did not name one."""
        later = [tenure for tenure in self.tenures.get(identifier, ()) if tenure.until > instant]
        return min(later, key=lambda tenure: tenure.until).customer_id if later else None


def claimed(record: Replayed) -> bool:
    """Whether a customer event is the ``CustomerLinked`` of a claim (``graph/claim_node.py``)."""
    event = record.event
    lineage = (event.value.get("lineage") or {}) if event is not None and event.schema == LINKED else {}
    return lineage.get("rule") == EARLIEST_CLAIM


def holder_history(customer_events: Iterable[Replayed], occurred: Mapping[str, int]) -> HolderHistory:
    """The tenures ``customer_events`` (``customer.events.v1`` as read back, any order, copies included) close.

    ``occurred``: input event id -> when it occurred (epoch µs; ``Recomputed.occurred_at``): a claim closes its
    giver's tenure at its triggering event's instant, else (an event not read back, an id the processor derived) at
    the announcement's ``occurred_at``. An announcement without its identifiers or customer (a crafted one) names
    nobody."""
    records = list(customer_events)
    history = HolderHistory()
    for release in announced_releases(records):
        history.tenures.setdefault(release.identifier, []).append(Tenure(release.at, release.customer_id))
    linked: dict[str, list[str]] = {}  # identifier -> the customers announced holding it, in order
    seen: set[str] = set()
    for record in sorted(records, key=arrived):
        event = record.event
        envelope = (event.value.get("envelope") or {}) if event is not None else {}
        claimant = event.value.get("customer_id") if event is not None else None
        event_id = str(envelope.get("event_id") or "")
        if event is None or event.schema not in (CREATED, LINKED) or not claimant or (event_id and event_id in seen):
            continue
        seen.add(event_id)
        if event.schema == CREATED:
            for identifier in event.value.get("identifiers") or ():
                linked.setdefault(identifier_key(identifier), []).append(claimant)
            continue
        if not event.value.get("identifier"):
            continue
        key = identifier_key(event.value["identifier"])
        if claimed(record):
            givers = [customer for customer in linked.get(key, ()) if customer != claimant]
            trigger = str((event.value.get("lineage") or {}).get("triggering_event_id") or "")
            until = occurred.get(trigger) or micros(envelope.get("occurred_at")) or 0
            history.tenures.setdefault(key, []).append(Tenure(until, givers[-1] if givers else None))
        linked.setdefault(key, []).append(claimant)
    return history

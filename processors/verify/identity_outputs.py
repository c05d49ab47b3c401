"""What the running identity processor wrote, as verify reads it back, and where a merged-away customer now is.

Shared by the identity checks (``processors.verify.identity``) and the contact checks
(``processors.verify.contacts``). A ``CustomerMerged`` on ``customer.events.v1`` names the merged-away customer
and its survivor; a reader follows them in turn (``final_customer``), as the screen pop and the tracker do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from processors.replay import Replayed
from processors.replay.operators import MERGED


@dataclass
class IdentityOutputs:
    """What the running processor wrote, each list in partition and offset order."""

    assignments: list[Replayed] = field(default_factory=list)  # customer.identifiers.v1
    customer_events: list[Replayed] = field(default_factory=list)  # customer.events.v1
    contacts: list[Replayed] = field(default_factory=list)  # customer.contacts.v1
    changelog: list[Replayed] = field(default_factory=list)  # the node table's changelog (raw)
    dead_lettered: set[tuple[str, int, int]] = field(default_factory=set)  # (topic, partition, offset)
    reviews: list[Replayed] = field(default_factory=list)  # identity.reviews.v1 (requests and decisions)
    profiles: list[Replayed] | None = None  # the profile table's changelog (raw); None: not read, names unchecked
    # the contacts table's changelog (raw); None: not read, contact records unchecked (``verify.contact_records``)
    contact_records: list[Replayed] | None = None


def record_key(record: Replayed) -> str:
    """The record's key as text (undecodable bytes replaced), ``""`` for a record without a key."""
    return record.key.decode(errors="replace") if record.key is not None else ""


def merges(customer_events: Iterable[Replayed]) -> dict[str, str]:
    """Merged-away customer id -> survivor id, from every ``CustomerMerged``."""
    return {r.event.value["merged_customer_id"]: r.event.value["survivor_customer_id"]
            for r in customer_events if r.event is not None and r.event.schema == MERGED}


def final_customer(customer: str, survivors: Mapping[str, str]) -> str:
    """Where a reader following ``CustomerMerged`` ends from ``customer`` (a cycle stops where it closes);
    ``survivors``: merged-away customer id -> survivor id (``merges``)."""
    seen = {customer}
    while customer in survivors and survivors[customer] not in seen:
        customer = survivors[customer]
        seen.add(customer)
    return customer

"""What each customer of a merge review is known by, for the operator who decides (``identity review list``).

A review's compared fields say how the two sides compare, not what each side is: a field ``missing`` may be
missing on one side or on both. New-user finding on the demo: "PHONE agree, everything else missing" could
not be decided. Each side's identifiers (by kind, masked) and the records (events) that created or linked
it, with their channels, are read from ``customer.events.v1``: a side known only by the phone through one
call-center record reads differently from a customer with a national ID, a login and an account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bus.identifiers.kinds import IDENTIFIER_TYPES
from bus.plural import counted
from bus.serde import Event
from processors.profile.masking import mask, mask_keys

NS = "omnibus.identity."


@dataclass
class Side:
    """One current customer: ``identifiers`` (``TYPE:value`` keys it holds), the distinct ``records`` (triggering
    event ids) that created, linked or were merged into it, and their ``channels`` in first-seen order."""

    customer_id: str
    identifiers: set[str] = field(default_factory=set)
    records: set[str] = field(default_factory=set)
    channels: list[str] = field(default_factory=list)

    def saw(self, lineage: dict[str, Any]) -> None:
        self.records.add(lineage["triggering_event_id"])
        if lineage["channel"] not in self.channels:
            self.channels.append(lineage["channel"])

    def masked(self, labels: dict[str, str] | None = None) -> list[str]:
        """Its identifiers as ``KIND:masked``, in the contract's order of kinds (``IdentifierType``), then by key;
        ``labels``: the review's (``masked_labels``), which tell apart values that mask alike."""
        order = {kind: position for position, kind in enumerate(IDENTIFIER_TYPES)}
        keys = sorted(self.identifiers, key=lambda key: (order.get(key.partition(":")[0], len(order)), key))
        labels = labels or {}
        return [labels.get(key) or f"{kind}:{mask(kind, value)}"
                for key, (kind, _, value) in ((key, key.partition(":")) for key in keys)]

    def as_json(self, labels: dict[str, str] | None = None) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "identifiers": self.masked(labels), "records": len(self.records),
                "channels": list(self.channels)}

    def summary(self, labels: dict[str, str] | None = None) -> str:
        """``holds NATIONAL_ID:…, PHONE:+33*****1986; 3 records from BRANCH, WEB`` (values masked)."""
        held = ", ".join(self.masked(labels)) or "no identifier now"
        records = counted(len(self.records), "record")
        return f"holds {held}; {records} from {', '.join(self.channels) or 'no channel'}"


def masked_labels(identifiers: tuple[str, ...], sides: dict[str, Side], customers: tuple[str, ...]) -> dict[str, str]:
    """``TYPE:value`` -> ``TYPE:masked`` for a review's ``identifiers`` and its ``customers``' sides together, two
    values that mask alike numbered (``mask_keys``: ``PHONE:+33*****0003 (1)``, ``(2)``; a review showed the same mask
    twice for two phones). An account's or an e-mail's mask carries its keyed tag (``bus.identifiers.masking``), the
    one the screen pop shows; never an unkeyed digest, which would give a few hidden digits away by brute force."""
    keys = sorted({*identifiers, *(key for customer in customers if customer in sides
                                   for key in sides[customer].identifiers)})
    return dict(zip(keys, mask_keys(keys), strict=True))


def _key(record: dict[str, Any]) -> str:
    return f"{record['type']}:{record['value']}"


def customer_sides(events: Iterable[Event], owners: Mapping[str, str] | None = None) -> dict[str, Side]:
    """Every customer that is current after ``events`` (``customer.events.v1``): who holds what now, keyed by current
    customer id only. Every customer id is first followed through every ``CustomerMerged`` of ``events``: the topic
    is keyed by customer id, so a merged-away customer's ``CustomerCreated`` may be read after the merge (another
    partition) and stood as a customer of its own (tester F4: a review's side shown as a phone-only record that had
    merged into a customer with a login, an e-mail and a name). ``owners`` (identifier key -> customer id, as
    ``customer.identifiers.v1`` holds it, each followed through the merges) decides who holds what when given;
    without it the last ``CustomerCreated`` / ``CustomerLinked`` of an identifier read decides (a claim moves it so),
    a split moves the identifiers it names, an eviction (``LinkRefused`` with ``evicted``) takes one off."""
    from processors.verify.identity import final_customer

    events = list(events)
    survivors = {event.value["merged_customer_id"]: event.value["survivor_customer_id"] for event in events
                 if event.schema == NS + "CustomerMerged"}
    sides: dict[str, Side] = {}
    holder: dict[str, str] = {}

    def side(customer_id: str) -> Side:
        current = final_customer(customer_id, survivors)
        return sides.setdefault(current, Side(current))

    def take(customer_id: str, key: str) -> None:
        if (before := holder.get(key)) is not None:
            sides[before].identifiers.discard(key)
        holder[key] = side(customer_id).customer_id
        side(customer_id).identifiers.add(key)

    for event in events:
        value, kind = event.value, event.schema.removeprefix(NS)
        if kind == "CustomerCreated":
            side(value["customer_id"]).saw(value["lineage"])
            for record in value["identifiers"]:
                take(value["customer_id"], _key(record))
        elif kind == "CustomerLinked":
            side(value["customer_id"]).saw(value["lineage"])
            take(value["customer_id"], _key(value["identifier"]))
        elif kind == "CustomerSplit":
            side(value["new_customer_id"]).saw(value["lineage"])
            for record in value["moved_identifiers"]:
                take(value["new_customer_id"], _key(record))
        elif kind == "LinkRefused" and value.get("evicted") and value.get("customer_id"):
            key = _key(value["identifier"])
            if holder.get(key) == side(value["customer_id"]).customer_id:
                del holder[key]
                side(value["customer_id"]).identifiers.discard(key)
    if owners is not None:
        for current in sides.values():
            current.identifiers.clear()
        for key, owner in owners.items():
            side(owner).identifiers.add(key)
    return sides


def only_in_common(review: Any, common: list[str], sides: dict[str, Side]) -> str | None:
    """A sentence for the operator when a side of ``review`` (an ``OpenReview``) holds nothing but identifiers of
    the kinds the two have in common (``common``, e.g. PHONE): nothing on it tells its person apart, so the
    decision is about that identifier. None otherwise (or when the sides are not known)."""
    for customer, other in ((review.customer_id, review.other_customer_id),
                            (review.other_customer_id, review.customer_id)):
        side = sides.get(customer)
        kinds = sorted({key.partition(":")[0] for key in side.identifiers}) if side is not None else []
        if side is None or not kinds or not set(kinds) <= set(common):
            continue
        held, records = " and ".join(kinds), len(side.records)
        return (f"{customer} holds nothing but the {held} the two share ({counted(records, 'record')} from "
                f"{', '.join(side.channels) or 'no channel'}), with no name or "
                f"birth date to compare. Accept if its contacts were {other}'s person; reject if another person "
                f"uses this {held} (a household).")
    return None


def mistyped(review: Any, vetoes: tuple[str, ...]) -> str | None:
    """A sentence for the operator when the two customers of ``review`` (an ``OpenReview``) hold two different
    identifiers of a type the matcher vetoes (``match_vetoes``: two national IDs), a review ``matching.mistyped``
    opens: accept is refused while both hold one, so it names the commands that merge them if one was mistyped.
    None otherwise."""
    kinds = sorted(name for name, level in review.levels.items()
                   if level == "different" and name in vetoes and name in IDENTIFIER_TYPES)
    if not kinds:
        return None
    kind, first, second = kinds[0], review.customer_id, review.other_customer_id
    return (f"the two hold two different {kind} identifiers: two people (reject), unless one was mistyped: then "
            f"release it from its customer (omnibus identity release {kind} VALUE --customer ...) and merge the two "
            f"(omnibus identity merge {first} {second}); accept is refused while both hold one.")


def to_decide(review: Any, common: list[str], sides: dict[str, Side], vetoes: tuple[str, ...]) -> str | None:
    """The advice a review's listing gives (``only_in_common``, else ``mistyped``), or None."""
    return only_in_common(review, common, sides) or mistyped(review, vetoes)

"""Undoing a merge (``omnibus identity unmerge``), and what a split moves and leaves.

A merge is announced once, as ``CustomerMerged`` on ``customer.events.v1``: ``merged_customer_id`` ceased to exist
and ``moved_identifiers`` are every identifier it held then (its members, and so those of the customers merged into
it before). Undoing it is one split (``SplitCustomer``) of exactly those identifiers that the survivor (or the
customer it has merged into since) still holds: they move together to one new customer, with the contacts, names and
products that came through them alone (``graph/split_contacts.py``, ``processors.profile.book``), and the two are
kept apart for good, as after any split (#8 point 7). Splitting them one at a time instead makes one customer a
split (and a later one another), and leaves behind what came through a kept identifier too (a web login's name, seen
with its user id and its e-mail, stays while the user id stays): ``split_lines`` says so when a split parts what one
merge brought.

Pure: the command (``cli_unmerge.py``) reads the topics and publishes. Identifiers are shown masked
(``bus.identifiers.masking.mask_keys``), never by value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bus.errors import OmnibusError
from bus.identifiers.masking import mask_keys
from bus.plural import counted
from bus.serde import Event
from processors.identity.review import identifier_key
from processors.verify.identity import final_customer

MERGED_SCHEMA = "omnibus.identity.CustomerMerged"


class UnmergeRefused(OmnibusError):
    """An unmerge that must not be sent: ``str(exc)`` says why (customer ids and masked identifiers only)."""


@dataclass(frozen=True, slots=True)
class MergeRecord:
    """One ``CustomerMerged``: ``merged`` ceased to exist into ``survivor``, bringing ``moved`` (``TYPE:value``
    keys); ``rule`` its lineage rule (``manual-merge`` for an operator's, ``operator`` then who)."""

    survivor: str
    merged: str
    moved: tuple[str, ...]
    rule: str
    operator: str | None = None

    def describe(self) -> str:
        """``cus_B into cus_A (rule manual-merge, by ops-3)``: ids and rule only."""
        by = f", by {self.operator}" if self.operator else ""
        return f"{self.merged} into {self.survivor} (rule {self.rule}{by})"


@dataclass(frozen=True, slots=True)
class SplitPlan:
    """What one split does: ``source`` (the customer holding them now) gives ``moving`` to one new customer and
    keeps ``staying``; ``gone``: identifiers of the undone merge the source no longer holds (moved on since: split,
    released, claimed), which nothing moves; ``merge``: the merge undone (None for a plain split)."""

    source: str
    moving: tuple[str, ...]
    staying: tuple[str, ...]
    gone: tuple[str, ...] = ()
    merge: MergeRecord | None = None


def merge_records(events: Iterable[Event]) -> dict[str, MergeRecord]:
    """Merged-away customer id -> its ``MergeRecord``, from the events of ``customer.events.v1`` (other schemas
    skipped; a redelivered announcement, with the same merged id, counts once)."""
    found: dict[str, MergeRecord] = {}
    for event in events:
        if event.schema != MERGED_SCHEMA:
            continue
        value = event.value
        found[value["merged_customer_id"]] = MergeRecord(
            value["survivor_customer_id"], value["merged_customer_id"],
            tuple(identifier_key(i) for i in value["moved_identifiers"]), value["lineage"]["rule"],
            value.get("operator"))
    return found


def survivors(merges: Mapping[str, MergeRecord]) -> dict[str, str]:
    """Merged-away customer id -> survivor, for ``verify.identity.final_customer`` (the customer one is now)."""
    return {merged: record.survivor for merged, record in merges.items()}


def unmerge_plan(merged: str, merges: Mapping[str, MergeRecord], owners: Mapping[str, str]) -> SplitPlan:
    """The split that undoes the merge that ended customer ``merged``: the identifiers it brought that the survivor's
    current customer still holds move together; ``owners``: identifier key -> customer id (``customer.identifiers.v1``).

    Raises ``UnmergeRefused`` when no merge ended ``merged`` (naming the customers merged into it, when it is a
    survivor: name one of those), when the customer holds none of them any more (undone already, or moved on), and
    when it holds nothing else (a split must leave it something: its ``merge`` is the one to undo then)."""
    merge = merges.get(merged)
    if merge is None:
        absorbed = sorted(record.merged for record in merges.values() if record.survivor == merged)
        if absorbed:
            raise UnmergeRefused(f"{merged} is a survivor: {', '.join(absorbed)} merged into it. Name the one to "
                                 "give back (omnibus identity unmerge CUSTOMER_MERGED_AWAY)")
        raise UnmergeRefused(f"no merge ended customer {merged} on customer.events.v1 (CustomerMerged names it as "
                             "merged_customer_id): give the id that was merged away")
    source = final_customer(merge.survivor, survivors(merges))
    moving = tuple(key for key in merge.moved if owners.get(key) == source)
    gone = tuple(key for key in merge.moved if owners.get(key) != source)
    if not moving:
        raise UnmergeRefused(f"{source} holds none of the {counted(len(merge.moved), 'identifier')} {merged} brought "
                             "(undone already, or each moved on since: see customer.events.v1)")
    staying = tuple(sorted(key for key, owner in owners.items() if owner == source and key not in moving))
    if not staying:
        raise UnmergeRefused(f"{source} holds nothing but what {merged} brought: nothing would stay (undo the merge "
                             f"that brought {source} its other identifiers instead)")
    return SplitPlan(source, moving, staying, gone, merge)


def split_plan(customer: str, keys: Iterable[str], owners: Mapping[str, str]) -> SplitPlan:
    """A plain split's plan (``omnibus identity split``): ``keys`` move, the rest of ``customer``'s stay."""
    moving = tuple(dict.fromkeys(keys))
    staying = tuple(sorted(key for key, owner in owners.items() if owner == customer and key not in moving))
    return SplitPlan(customer, moving, staying)


def parted(plan: SplitPlan, merges: Mapping[str, MergeRecord]) -> list[MergeRecord]:
    """The merges into ``plan.source`` whose identifiers the split parts: some move, some the source keeps (a merge
    undone one identifier at a time). Not the merge ``plan`` undoes."""
    moving, staying, now = set(plan.moving), set(plan.staying), survivors(merges)
    return [record for record in merges.values()
            if record != plan.merge and final_customer(record.survivor, now) == plan.source
            and not moving.isdisjoint(record.moved) and not staying.isdisjoint(record.moved)]


def split_lines(plan: SplitPlan, merges: Mapping[str, MergeRecord]) -> list[str]:
    """What an operator is told a split does: what moves, what stays, what of an undone merge moved on since, and
    which merges the split parts (with the ``unmerge`` that gives one back whole). Identifiers masked."""
    lines = [f"moves to one new customer: {', '.join(mask_keys(plan.moving))}",
             f"stays with {plan.source}: {', '.join(mask_keys(plan.staying)) or 'nothing'}"]
    if plan.gone:
        lines.append(f"not moved (no longer with {plan.source}): {', '.join(mask_keys(plan.gone))}")
    lines.append("names and products go with the moved identifiers when they came through them alone; a contact "
                 "that carried a moved and a kept one follows the higher-priority of the two")
    for record in parted(plan, merges):
        left = [key for key in record.moved if key in plan.staying]
        lines.append(f"note: the merge of {record.describe()} brought {', '.join(mask_keys(left))} too, which "
                     f"{'stays' if len(left) == 1 else 'stay'}: to give {record.merged} back whole, "
                     f"`omnibus identity unmerge {record.merged}` instead")
    return lines

"""Operators' merges and splits (``omnibus identity merge``, ``split``, ``unmerge``) in a recomputation of identity:
read back from their announcements, applied in turn with the releases (``releases.py``).

They travel on the graph topic, not on identity's inputs, so a graph rebuilt from the inputs alone neither joins what
an operator merged nor parts what one split. The running processor announces each on ``customer.events.v1``: a merge
as ``CustomerMerged`` of rule ``manual-merge`` (survivor, merged customer, the identifiers that moved), a split or an
unmerge as ``CustomerSplit`` (source, new customer, the identifiers that moved). The recomputation
(``identity.recompute``) sends the same command to its graph where the running processor applied it: between the
input records that reached Kafka before and after the announcement (``releases.in_turn``), in the order the
announcements reached Kafka, releases among them. So a chain of commands (merge two people, split off a mix of their
identifiers, merge the split-off customer with a third) is rebuilt step by step; one pair of identifiers per command
cannot say what such a chain joined and parted (the random search of chained commands: 12 of 260 runs failed verify's
grouping checks that way).

Customer ids are minted from the event that made the customer (``saga.customer_id``), so a recomputation that took
the same inputs holds the running processor's customers under the same ids; a split's new customer is minted from
the command id and its instant, which the announcement carries (its lineage's ``triggering_event_id``, the new id's
birth digits: ``saga.born_at``), so it gets the same id too. Where the recomputation has no customer of that id (it
grouped differently before the command, or another event of one contact made it: verify reads the inputs back topic by
topic, the running processor took them as they came), the command goes to the recomputed customer of the identifiers
it moved, and a merge's survivor to the one of the identifiers the running processor had announced on it by then
(``Holdings``: ``CustomerCreated``, ``CustomerLinked``, merges, splits, releases; before, a survivor under another id
left the merge out, and verify failed two checks after a corrected counter upload and an operator's merge of customers
whose events were hours old); a command whose customers the recomputation cannot find is left out and listed
(``Recomputed.not_replayed``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from processors.identity.graph.local import LocalGraph
from processors.identity.graph.messages.commands import SplitCustomer
from processors.identity.graph.outputs import Send
from processors.identity.graph.saga import born_at
from processors.identity.graph.state import CustomerState
from processors.identity.merge import merge_send
from processors.identity.review import identifier_key
from processors.identity.rules import MANUAL_MERGE, MANUAL_SPLIT
from processors.profile.sections._time import micros
from processors.replay import Replayed
from processors.replay.holders import CREATED, LINKED
from processors.replay.releases import REFUSED, Release, announced_releases, apply_release, arrived

MERGED = "omnibus.identity.CustomerMerged"
SPLIT = "omnibus.identity.CustomerSplit"


@dataclass(frozen=True, slots=True)
class OperatorMerge:
    """One operator's merge as announced: the running processor's ``survivor`` and ``merged`` customer ids, the
    identifier keys that moved, the command id (``token``), who and why, ``arrived`` (epoch µs: when the
    announcement reached Kafka), and ``survivor_held``: the identifier keys the running processor had announced on the
    survivor before the merge (``Holdings``), which find it in a recomputation that minted it under another id."""

    survivor: str
    merged: str
    moved: tuple[str, ...]
    token: str
    operator: str
    reason: str
    arrived: int
    survivor_held: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OperatorSplit:
    """One operator's split or unmerge as announced: the running processor's ``source`` and ``new`` customer ids,
    the identifier keys that moved, the command id (``token``), ``at`` (epoch µs: the new customer's birth, the
    command's instant), why, who, the channel, and ``arrived`` (epoch µs: when the announcement reached Kafka)."""

    source: str
    new: str
    moved: tuple[str, ...]
    token: str
    at: int
    reason: str | None
    operator: str | None
    channel: str
    arrived: int


OperatorCommand = Release | OperatorMerge | OperatorSplit


def operators_split(record: Replayed) -> bool:
    """Whether ``record`` is a ``CustomerSplit`` an operator made (rule ``manual-split``: a split, an unmerge), not
    one the processor made itself (a login leaving a household's mailbox, rule ``match-review``: the recomputation
    holds it apart too, and an accepted review joins the two again: ``processors/identity/graph/logins.py``)."""
    event = record.event
    return (event is not None and event.schema == SPLIT
            and (event.value.get("lineage") or {}).get("rule") == MANUAL_SPLIT)


def announced_commands(customer_events: Iterable[Replayed]) -> list[OperatorCommand]:
    """Every operator's release, merge and split on ``customer.events.v1`` once (by announcement id), in the order
    they reached Kafka (``releases.arrived``; equal instants in the order read)."""
    records = sorted(customer_events, key=arrived)
    found: dict[str, OperatorCommand] = {}
    holdings = Holdings()
    for record in records:
        event = record.event
        lineage = (event.value.get("lineage") or {}) if event is not None else {}
        held = holdings.of(str(event.value["survivor_customer_id"])) if event is not None and event.schema == MERGED \
            else ()
        holdings.note(record)
        if event is None or not (operators_split(record) or (event.schema == MERGED
                                                             and lineage.get("rule") == MANUAL_MERGE)):
            continue  # the matcher's merges and the processor's own splits are the recomputation's own
        value = event.value
        envelope = value["envelope"]
        moved = tuple(identifier_key(i) for i in value["moved_identifiers"])
        token = str(lineage.get("triggering_event_id") or envelope["event_id"])
        if event.schema == MERGED:
            found.setdefault(envelope["event_id"], OperatorMerge(
                value["survivor_customer_id"], value["merged_customer_id"], moved, token,
                str(value.get("operator") or ""), str(value.get("reason") or ""), arrived(record),
                tuple(key for key in held if key not in moved)))
        else:
            at = born_at(value["new_customer_id"])
            found.setdefault(envelope["event_id"], OperatorSplit(
                value["source_customer_id"], value["new_customer_id"], moved, token,
                at if at is not None else micros(envelope.get("occurred_at")) or 0, value.get("reason"),
                value.get("operator"), str(lineage.get("channel") or "BACK_OFFICE"), arrived(record)))
    commands: list[OperatorCommand] = [*found.values(), *announced_releases(records)]
    return sorted(commands, key=lambda command: command.arrived)


class Holdings:
    """The identifiers the running processor announced on each of its customers so far, read from ``customer.events``
    in the order the records reached Kafka (``note``): a ``CustomerCreated``'s identifiers and a ``CustomerLinked``'s
    identifier go to its customer, a merge's moved identifiers and every other one of the merged customer to the
    survivor, a split's to the new customer, an identifier a release evicted (``LinkRefused`` with ``evicted``) to
    nobody."""

    def __init__(self) -> None:
        self._owner: dict[str, str] = {}  # identifier key -> customer id
        self._held: dict[str, set[str]] = {}  # customer id -> identifier keys

    def of(self, customer: str) -> tuple[str, ...]:
        """The identifier keys ``customer`` holds now, sorted."""
        return tuple(sorted(self._held.get(customer, ())))

    def note(self, record: Replayed) -> None:
        """Take in the ``customer.events`` record ``record`` (another event, or one without the customer or the
        identifiers it names, a crafted one, changes nothing)."""
        value = record.event.value if record.event is not None else {}
        schema = record.event.schema if record.event is not None else None
        if schema == CREATED:
            self._give(value.get("identifiers") or (), value.get("customer_id"))
        elif schema == LINKED:
            self._give([value["identifier"]] if value.get("identifier") else (), value.get("customer_id"))
        elif schema == MERGED and value.get("survivor_customer_id"):
            moving = self._held.pop(str(value.get("merged_customer_id")), set())
            self._give(value.get("moved_identifiers") or (), value["survivor_customer_id"], moving)
        elif schema == SPLIT:
            self._give(value.get("moved_identifiers") or (), value.get("new_customer_id"))
        elif schema == REFUSED and value.get("evicted") and value.get("identifier"):
            self._take(identifier_key(value["identifier"]))

    def _give(self, identifiers: Iterable[dict[str, str]], customer: str | None, also: Iterable[str] = ()) -> None:
        """``identifiers`` (as announced) and the keys ``also`` now belong to ``customer`` (None: nothing changes)."""
        if customer is None:
            return
        for key in {*also, *(identifier_key(i) for i in identifiers)}:
            self._take(key)
            self._owner[key] = customer
            self._held.setdefault(customer, set()).add(key)

    def _take(self, key: str) -> None:
        """``key`` belongs to nobody now."""
        previous = self._owner.pop(key, None)
        if previous is not None:
            self._held.get(previous, set()).discard(key)


def apply_command(graph: LocalGraph, command: OperatorCommand) -> bool:
    """Carry out ``command`` in ``graph`` and run it to rest; False when the recomputation has no customer to send
    it to (``OperatorMerge``, ``OperatorSplit``: see the module docstring)."""
    if isinstance(command, Release):
        apply_release(graph, command)
        return True
    if isinstance(command, OperatorSplit):
        source = _customer(graph, command.source, command.moved, holding=True)
        if source is None:
            return False
        graph.submit([Send(source, SplitCustomer(list(command.moved), command.reason, command.token, command.at,
                                                 command.channel, command.operator))])
    else:
        survivor = _customer(graph, command.survivor, command.survivor_held)
        merged = _customer(graph, command.merged, command.moved)
        if survivor is None or merged is None:
            return False
        if survivor == merged:
            return True
        sides = [_root_state(graph, survivor).members, _root_state(graph, merged).members]
        keys = [graph.graph.policy.plan_order(members)[0] for members in sides] if all(sides) else []
        graph.submit([merge_send(command.token, survivor, merged, keys, command.operator, command.reason)])
    graph.run()
    return True


def _customer(graph: LocalGraph, customer: str, moved: Sequence[str], *, holding: bool = False) -> str | None:
    """The recomputed customer (a root) standing for the running processor's ``customer``: the customer of that id
    (when ``holding``, only if it holds one of ``moved``), else the one that holds most of ``moved`` (the smaller id
    on a tie); None when neither exists."""
    root = _root(graph, customer)
    state = graph.store.nodes.get(root) if root is not None else None
    if root is not None and isinstance(state, CustomerState) and (
            not holding or any(key in state.members for key in moved)):
        return root
    counts: dict[str, int] = {}
    for key in moved:
        if (owner := graph.customer_of(key)) is not None:
            counts[owner] = counts.get(owner, 0) + 1
    return min(counts, key=lambda owner: (-counts[owner], owner)) if counts else None


def _root(graph: LocalGraph, customer: str) -> str | None:
    """``customer`` followed through its merges in ``graph``; None when ``graph`` has no created customer of that id."""
    seen = set()
    state = graph.store.nodes.get(customer)
    while isinstance(state, CustomerState) and state.created and state.parent and customer not in seen:
        seen.add(customer)
        customer = state.parent
        state = graph.store.nodes.get(customer)
    return customer if isinstance(state, CustomerState) and state.created else None


def _root_state(graph: LocalGraph, root: str) -> CustomerState:
    state = graph.store.nodes[root]
    assert isinstance(state, CustomerState)
    return state

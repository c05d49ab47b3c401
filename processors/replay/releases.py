"""Operators' releases (``omnibus identity release``) in a recomputation of identity: read back, applied in turn.

A release travels on the graph topic, not on identity's inputs, so a graph rebuilt from the inputs alone keeps the
identifier with its previous holder. The running processor announces each effective release on
``customer.events.v1``: ``LinkRefused`` rule ``manual-release`` with ``evicted`` (``graph/release.py``). The
recomputation (``processors.replay.identity.recompute``) applies each one where the running processor did: between
the input records that reached Kafka before its announcement and those that reached it after (the records' Kafka
timestamps, else their ``occurred_at``), to whichever recomputed customer holds the identifier then. Its instant is
the announcement's ``occurred_at`` (the processor's clock when it applied the release; the command's own instant,
a moment earlier, travels only on the graph topic): an event that occurred before it no longer links the identifier.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from processors.identity.graph.local import LocalGraph
from processors.identity.graph.messages.commands import ReleaseIdentifier, Relinquish
from processors.identity.graph.outputs import Send
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.identity.review import identifier_key
from processors.identity.rules import MANUAL_RELEASE
from processors.profile.sections._time import micros
from processors.replay import Replayed

REFUSED = "omnibus.identity.LinkRefused"


@dataclass(frozen=True, slots=True)
class Release:
    """One release as announced: ``identifier`` (``TYPE:value`` key), ``at`` (epoch µs: events that occurred before
    no longer link it), ``arrived`` (epoch µs: when the announcement reached Kafka), the command id (``token``),
    the running processor's customer it left (``customer_id``), ``operator`` and ``channel``."""

    identifier: str
    at: int
    arrived: int
    token: str
    customer_id: str
    operator: str
    channel: str


def arrived(record: Replayed) -> int:
    """When ``record`` reached Kafka (epoch µs, its timestamp), else when its event occurred; 0: neither known."""
    if record.timestamp_ms is not None:
        return record.timestamp_ms * 1000
    envelope = (record.event.value.get("envelope") or {}) if record.event is not None else {}
    return micros(envelope.get("occurred_at")) or 0


def announced_releases(customer_events: Iterable[Replayed]) -> list[Release]:
    """Every effective release on ``customer.events.v1`` once (by announcement id), in the order they reached Kafka.
    A ``manual-release`` refusal without ``evicted`` (the customer no longer held it) released nothing."""
    found: dict[str, Release] = {}
    for record in customer_events:
        event = record.event
        if event is None or event.schema != REFUSED or not event.value.get("evicted"):
            continue
        lineage = event.value.get("lineage") or {}
        if lineage.get("rule") != MANUAL_RELEASE:
            continue
        envelope = event.value["envelope"]
        found.setdefault(envelope["event_id"], Release(
            identifier_key(event.value["identifier"]), micros(envelope.get("occurred_at")) or 0, arrived(record),
            str(lineage.get("triggering_event_id") or envelope["event_id"]), str(event.value.get("customer_id") or ""),
            str(event.value.get("operator") or ""), str(lineage.get("channel") or "BACK_OFFICE")))
    return sorted(found.values(), key=lambda release: release.arrived)


class Arriving(Protocol):
    """An operator's command as announced (a release, ``operators.OperatorMerge``, ``OperatorSplit``)."""

    @property
    def arrived(self) -> int: ...  # epoch µs: when its announcement reached Kafka


A = TypeVar("A", bound=Arriving)


def in_turn(records: Iterable[Replayed], commands: Iterable[A]) -> Iterator[Replayed | A]:
    """``records`` (in their order) with each command (a release, an operator's merge or split) placed after the
    records that reached Kafka no later than its announcement, commands of one instant in their given order: a stable
    reordering, none when there are no commands."""
    ordered = sorted(commands, key=lambda command: command.arrived)
    if not ordered:
        yield from records
        return
    bounds = [command.arrived for command in ordered]
    between: list[list[Replayed]] = [[] for _ in range(len(ordered) + 1)]
    for record in records:
        between[bisect_left(bounds, arrived(record))].append(record)
    for position, command in enumerate(ordered):
        yield from between[position]
        yield command
    yield from between[-1]


def apply_release(graph: LocalGraph, release: Release) -> None:
    """Release ``release.identifier`` in ``graph`` and run it to rest: from the customer that holds it there (as the
    command does, ``graph/release.py``), or straight at its node when nobody does (so that it still forgets its
    holders and events that occurred before the release no longer link it)."""
    holder = graph.customer_of(release.identifier)
    if holder is not None:
        message: ReleaseIdentifier | Relinquish = ReleaseIdentifier(
            release.identifier, release.operator, None, release.token, release.at, release.channel)
        graph.submit([Send(holder, message)])
    else:
        node = graph.store.nodes.get(release.identifier)
        version = node.version if isinstance(node, IdentifierState) else 0
        # The released customer is its holder then only if the recomputation has it: else the identifier's late events
        # would be led to a customer that never comes (``graph/saga.held_then``).
        named = graph.store.nodes.get(release.customer_id)
        customer = release.customer_id if isinstance(named, CustomerState) and named.created else ""
        graph.submit([Send(release.identifier, Relinquish(customer, version + 1, release.at,
                                                          release.operator, None, release.token, release.channel))])
    graph.run()


"""Every event decided in order by one writer, with the graph's own handlers and merge rules.

``SingleWriterResolver.resolve(node, visit)`` takes the first protocol message ``intake.Intake.start``
opens for an event and returns the graph's decisions (``graph.outputs``: Created, Linked, Merged,
Refused, Assigned, SharedMarked, ReviewRequested, Resolved, Unresolved), as the partitioned protocol
announces them. Every node lives in this one process (``graph.local.MemoryStore``) and every message
between nodes is handled at once, in order (``graph.local.LocalGraph`` with one partition): no graph
topic, no round trip through Kafka, no second writer. Customer ids resolve through the merged
customers' parent pointers (a union-find). Profiles are not kept here: the profile stage, partitioned
by customer id, keeps them (``stages.ProfileStage``).

History: the first baseline (commit 2684cdd) was a hand-written union-find over the dict protocol that
called the graph's rule helpers; the typed protocol (#9 build 1) replaced those helpers, so the baseline
now runs the graph's handlers themselves, which keeps "the same merge rules" true by construction.
"""

from __future__ import annotations

from collections import OrderedDict

from processors.identity.graph.engine import IdentityGraph
from processors.identity.graph.local import LocalGraph, MemoryStore
from processors.identity.graph.messages import AnyMessage
from processors.identity.graph.messages.base import EventRef
from processors.identity.graph.outputs import Output, Send
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.identity.rules import LinkPolicy
from processors.profile.book import ProfileBook, ProfileState

RECENT_EVENTS = 65_536  # event ids remembered to drop a re-delivered event (the decide log is in order)


class _NoProfiles(MemoryStore):
    """Node states in memory; profiles are the profile stage's (a merge offers none, an apply keeps none)."""

    def get_profile(self, key: str) -> ProfileState | None:
        return None

    def put_profile(self, key: str, profile: ProfileState | None) -> None:
        pass


def _unused_loader(ref: EventRef) -> object:
    raise AssertionError("the decider never loads events: the profile stage does")


class SingleWriterResolver:
    """The decider's state and rules. One instance per decide partition (there is one)."""

    def __init__(self, policy: LinkPolicy, book: ProfileBook, *, dedupe_window: int = 16,
                 recent_events: int = RECENT_EVENTS) -> None:
        # ``book`` without sections: the decider applies no profile section (the profile stage does).
        self._graph = IdentityGraph(policy, ProfileBook([]), _unused_loader, dedupe_window=dedupe_window)  # type: ignore[arg-type]
        self._book = book
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._recent_limit = recent_events
        self.reset()

    def reset(self) -> None:
        """Forget everything (before a replay of the decide log rebuilds it)."""
        self.local = LocalGraph(self._graph, partitions=1)
        self.local.store = _NoProfiles()
        self._recent.clear()

    def resolve(self, node: str, message: AnyMessage, event_id: str) -> list[Output]:
        """Decide the event ``event_id`` whose first message is ``message`` for ``node``; ``[]`` if seen recently."""
        if event_id in self._recent:
            return []
        self._recent[event_id] = None
        if len(self._recent) > self._recent_limit:
            self._recent.popitem(last=False)
        self.local.decisions = []
        self.local.submit([Send(node, message)])
        self.local.run()
        return self.local.decisions

    def clusters(self) -> set[frozenset[str]]:
        """The member sets of every root customer."""
        return self.local.clusters()

    def owner_of(self, identifier: str) -> str | None:
        """The root customer of ``identifier`` (parent pointers followed), None when nobody owns it."""
        return self.local.customer_of(identifier)

    def roots(self) -> dict[str, frozenset[str]]:
        return {key: frozenset(state.members) for key, state in self.local.roots().items() if state.members}

    def identifier_count(self) -> int:
        return sum(isinstance(state, IdentifierState) for state in self.local.store.nodes.values())

    def customer_count(self) -> int:
        return sum(isinstance(state, CustomerState) for state in self.local.store.nodes.values())

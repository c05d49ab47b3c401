"""Every event decided in order by one writer: a union-find over customer ids, the graph's merge rules.

``UnionFindResolver.resolve(saga)`` takes the saga ``intake.Intake.start`` opens for an event and
returns the graph's decisions (``graph.outputs``: Created, Linked, Merged, Refused, Assigned,
SharedMarked, ReviewRequested, Resolved, Unresolved), as the partitioned protocol would announce them.

Phase 1 (who owns each identifier, which are new or shared) reads the state directly; phase 2 is the
saga's own plan (``graph.saga.advance``: priority order, pending limits by rank), whose steps are decided
here at once instead of travelling to other nodes. The decisions reuse the graph's rules: limits and
priorities (``rules.LinkPolicy``), ranks and evictions (``graph.limits``), the Fellegi–Sunter weight and
refusal texts (``graph.evidence``). Not handled (the partitioned protocol's extras): the blocking index
(merges without a common identifier: its ``block`` messages are dropped), operator splits and reviews.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from processors.identity.baseline.state import CustomerState, IdentifierState
from processors.identity.graph.customer_node import _waived
from processors.identity.graph.engine import Ctx, IdentityGraph, Message, State
from processors.identity.graph.evidence import absorb_traits, consistent_traits, judge, kept_apart
from processors.identity.graph.limits import (
    evict,
    loser,
    member,
    member_rank,
    member_version,
    rank_of,
    ranks_of_kind,
    saga_rank,
    version_of,
)
from processors.identity.graph.outputs import (
    Assigned,
    Created,
    Lineage,
    Linked,
    Merged,
    Output,
    Refused,
    Resolved,
    Send,
    SharedMarked,
)
from processors.identity.graph.saga import (
    NEW,
    SHARED,
    UNKNOWN,
    Saga,
    advance,
    copy_saga,
    lineage,
    pending_customer_id,
)
from processors.identity.matching.traits import combine
from processors.identity.matching.weights import Decision
from processors.identity.rules import MAX_PER_CUSTOMER, SHARED_IDENTIFIER, LinkPolicy, kind_of
from processors.profile.book import ProfileBook

IGNORED_STEPS = frozenset({"block", "unblock"})  # the blocking index, which the baseline does not keep
RECENT_EVENTS = 65_536  # event ids remembered to drop a re-delivered event (the decide log is in order)


class _NoState:
    """The node store of the throw-away ``Ctx`` the evidence helpers are called with (state is set on it)."""

    def get_node(self, key: str) -> State | None:
        return None

    def put_node(self, key: str, state: State | None) -> None:
        raise AssertionError("the baseline keeps its own state")

    def get_profile(self, key: str) -> State | None:
        return None

    def put_profile(self, key: str, profile: State | None) -> None:
        raise AssertionError("the baseline keeps profiles in the profile stage")


def _unused_loader(ref: dict[str, Any]) -> Any:
    raise AssertionError("the decider never loads events: the profile stage does")


class UnionFindResolver:
    """The decider's state and rules. Not thread-safe; one instance per decide partition (there is one)."""

    def __init__(self, policy: LinkPolicy, book: ProfileBook, *, recent_events: int = RECENT_EVENTS) -> None:
        self.policy = policy
        self.identifiers: dict[str, IdentifierState] = {}
        self.customers: dict[str, CustomerState] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._recent_limit = recent_events
        # Only for the evidence helpers' ``Ctx`` (policy, emit, send): no handler runs through it.
        self._graph = IdentityGraph(policy, book, _unused_loader)
        self._store = _NoState()

    def reset(self) -> None:
        """Forget everything (before a replay of the decide log rebuilds it)."""
        self.identifiers.clear()
        self.customers.clear()
        self._recent.clear()

    # --- union-find -----------------------------------------------------------------------------------

    def find(self, customer: str) -> str:
        """The root customer ``customer`` was merged into (itself if a root); halves the path on the way."""
        customers = self.customers
        while (parent := customers[customer].parent) is not None:
            grand = customers[parent].parent
            if grand is not None:
                customers[customer].parent = grand
            customer = grand or parent
        return customer

    def owner_of(self, identifier: str) -> str | None:
        node = self.identifiers.get(identifier)
        return self.find(node.owner) if node is not None and node.owner is not None else None

    def clusters(self) -> set[frozenset[str]]:
        """The member sets of every root customer."""
        return {frozenset(c.members) for c in self.customers.values() if c.parent is None and c.members}

    # --- one event --------------------------------------------------------------------------------------

    def resolve(self, saga: Saga) -> list[Output]:
        """Decide the event of ``saga`` (``graph.saga.new_saga``); ``[]`` for an event seen recently."""
        if saga["e"] in self._recent:
            return []
        self._recent[saga["e"]] = None
        if len(self._recent) > self._recent_limit:
            self._recent.popitem(last=False)
        saga = copy_saga(saga)
        decided: list[Output] = self._visit(saga)
        saga["plan"] = self.policy.plan_order(saga["ids"])
        work: deque[Output] = deque(advance(saga, self.policy))
        while work:
            output = work.popleft()
            if isinstance(output, Send):
                work.extendleft(reversed(self._step(output.node, output.message)))
            else:
                decided.append(output)
        return decided

    def _visit(self, saga: Saga) -> list[Output]:
        """Phase 1: the status of every identifier in ``saga['seen']`` (owner, NEW, SHARED or UNKNOWN)."""
        outputs: list[Output] = []
        rank, lookup_only = saga_rank(saga), set(saga.get("lo", ()))
        for key in saga["ids"]:
            node = self.identifiers.get(key)
            if self.policy.limit(kind_of(key)) is not None:
                node = node or self.identifiers.setdefault(key, IdentifierState())
                self._lower_rank(key, node, rank)
            if node is not None and node.shared:
                saga["seen"][key] = SHARED
                outputs.append(Refused(key, f"{kind_of(key)} is shared by several customers and no longer links",
                                       lineage(saga, SHARED_IDENTIFIER), customer_id=node.owner))
            elif node is not None and node.owner is not None:
                saga["seen"][key] = node.owner
            elif key in lookup_only:
                saga["seen"][key] = UNKNOWN
            else:
                saga["seen"][key] = NEW
                if node is not None and node.rank is not None:
                    saga.setdefault("nr", {})[key] = node.rank
                if node is not None and node.version:
                    saga.setdefault("nv", {})[key] = node.version
        saga["i"] = len(saga["ids"])
        return outputs

    def _lower_rank(self, key: str, node: IdentifierState, rank: int) -> None:
        known = node.rank
        if known is not None and rank >= known:
            return
        node.rank = rank
        if known is not None and node.owner is not None:
            members = self.customers[self.find(node.owner)].members
            if key in members and rank < member_rank(members[key]):
                members[key] = member(member_version(members[key]), rank)

    def _step(self, node: str, message: Message) -> list[Output]:
        """One phase-2 step the saga addressed to ``node``, decided at once; the outputs that follow it."""
        kind = message["k"]
        if kind == "release":
            return self._associate(node, message["with"]) if message.get("with") else []
        if kind == "note":
            return self._associate(node, message["with"])
        if kind in IGNORED_STEPS:
            return []
        if kind == "join":
            return self._join(self.find(node), message)
        if kind == "link":
            return self._link(self.find(node), message)
        if kind == "create":
            return self._create(node, message)
        if kind == "apply":
            return self._apply(self.find(node), message["saga"])
        raise ValueError(f"the baseline does not handle {kind!r} steps")

    # --- decisions at a root ----------------------------------------------------------------------------

    def _ctx(self, key: str, state: State) -> Ctx:
        ctx = Ctx(self._graph, self._store, key)
        ctx.state = state
        return ctx

    def _continue(self, saga: Saga, outputs: list[Output]) -> list[Output]:
        saga["j"] += 1
        return [*outputs, *advance(saga, self.policy)]

    def _join(self, root: str, message: Message) -> list[Output]:
        """New identifiers join customer ``root`` unless a limit (or the weight) forbids it (``on_join``)."""
        saga, customer = copy_saga(message["saga"]), self.customers[root]
        members, culprit = customer.members, message["cul"]
        ctx = self._ctx(root, {"tr": customer.traits, "m": members})
        added = [key for key in message["add"] if key not in members]
        breach = self.policy.breach(members, added, waived=_waived(saga))
        decision, score = Decision.MERGE, None
        if breach is None and not message["new"] and added:
            decision, score = judge(ctx, saga.get("tr"), customer.traits, [*added, culprit], members)
        dropped = culprit
        if breach is not None and message["new"]:
            dropped = loser(ranks_of_kind(ctx.state, breach.kind), culprit, rank_of(saga, culprit))
        if breach is not None and dropped != culprit:
            self._admit(ctx, culprit, version_of(saga, culprit), rank_of(saga, culprit), lineage(saga))
            self._evict(root, members, dropped, saga, breach.reason, ctx)
            saga["cur"] = root
        elif breach is not None and message["new"]:
            ctx.emit(Refused(culprit, breach.reason, lineage(saga, MAX_PER_CUSTOMER), customer_id=root))
            ctx.send(culprit, {"k": "release", "tok": saga["e"], "with": root})
            saga["cur"] = root
        elif breach is not None:
            pending = pending_customer_id(saga)
            ctx.emit(Refused(culprit, breach.reason, lineage(saga, MAX_PER_CUSTOMER),
                             customer_id=pending, other_customer_id=root))
            if judge(ctx, saga.get("tr"), customer.traits, [*added, culprit], members)[0] is Decision.REFUSE:
                ctx.send(culprit, {"k": "note", "with": pending})
        elif decision is not Decision.MERGE and score is not None:
            kept_apart(ctx, decision, score, lineage(saga), culprit, pending_customer_id(saga), root,
                       (min(added), culprit))
        else:
            for key in added:
                self._admit(ctx, key, version_of(saga, key), rank_of(saga, key), lineage(saga))
            saga["cur"], saga["pend"] = root, []
        return self._continue(saga, ctx.outputs)

    def _link(self, root: str, message: Message) -> list[Output]:
        """The event's customer and ``root`` are one person: the larger id merges into the smaller."""
        saga = copy_saga(message["saga"])
        current = self.find(saga["cur"])
        if current == root:
            saga["cur"] = root
            return self._continue(saga, [])
        survivor_id, loser_id = min(root, current), max(root, current)
        survivor, merged = self.customers[survivor_id], self.customers[loser_id]
        other = survivor_id if current == loser_id else loser_id
        ctx = self._ctx(survivor_id, {"tr": survivor.traits, "m": survivor.members})
        culprit = message["cul"]
        breach = self.policy.breach(survivor.members, merged.members, waived=_waived(saga))
        decision, score = Decision.MERGE, None
        if breach is None:
            loser_traits, own_traits = merged.traits, survivor.traits
            if current == loser_id:
                loser_traits = combine(loser_traits, saga.get("tr"))
            else:
                own_traits = combine(own_traits, saga.get("tr"))
            decision, score = judge(ctx, loser_traits, own_traits, [*merged.members, culprit],
                                    [*survivor.members, culprit])
        if breach is not None:
            ctx.emit(Refused(culprit, breach.reason, lineage(saga, MAX_PER_CUSTOMER), customer_id=current,
                             other_customer_id=other))
            ctx.send(culprit, {"k": "note", "with": current})
            saga["cur"] = current
        elif decision is not Decision.MERGE and score is not None:
            kept_apart(ctx, decision, score, lineage(saga), culprit, current, other,
                       (min(merged.members), min(survivor.members)))
            saga["cur"] = current
        else:
            self._merge(ctx, survivor_id, loser_id, saga)
            saga["cur"] = survivor_id
        return self._continue(saga, ctx.outputs)

    def _merge(self, ctx: Ctx, survivor_id: str, loser_id: str, saga: Saga) -> None:
        survivor, merged = self.customers[survivor_id], self.customers[loser_id]
        moved = sorted(merged.members)
        for key in moved:
            survivor.members[key] = merged.members[key] + 1  # the version is in the low bits
        absorb_traits(ctx, merged.traits)
        survivor.traits = ctx.state.get("tr")
        announced = Merged(survivor_id, loser_id, tuple(moved), lineage(saga))
        ctx.emit(announced)
        for key in moved:
            self._assign(ctx, key, survivor_id, member_version(survivor.members[key]), announced.event_id)
        merged.parent, merged.members, merged.traits = survivor_id, {}, None

    def _create(self, customer_id: str, message: Message) -> list[Output]:
        """A new customer for the event's unowned identifiers (``on_create``), then the event applies to it."""
        if customer_id in self.customers:
            return []
        saga = copy_saga(message["saga"])
        members = {key: member(version_of(saga, key),
                               rank_of(saga, key) if self.policy.limit(kind_of(key)) is not None else 0)
                   for key in message["add"]}
        self.customers[customer_id] = CustomerState(members, born=saga["at"])
        ctx = self._ctx(customer_id, {"m": members})
        created = Created(customer_id, tuple(message["add"]), lineage(saga))
        ctx.emit(created)
        for key in message["add"]:
            self._assign(ctx, key, customer_id, member_version(members[key]), created.event_id)
        saga["cur"], saga["pend"] = customer_id, []
        return [*ctx.outputs, *self._apply(customer_id, saga)]

    def _apply(self, root: str, saga: Saga) -> list[Output]:
        """The event belongs to ``root``: keep its traits if they may be this person's; ``Resolved``."""
        customer = self.customers[root]
        ctx = self._ctx(root, {"tr": customer.traits, "m": customer.members})
        if consistent_traits(ctx, saga.get("tr")):
            absorb_traits(ctx, saga.get("tr"))
            customer.traits = ctx.state.get("tr")
        return [*ctx.outputs, Resolved(root, saga.get("ev"), saga["e"], saga.get("t0", 0.0))]

    # --- identifiers ------------------------------------------------------------------------------------

    def _admit(self, ctx: Ctx, key: str, version: int, rank: int, link_lineage: Lineage) -> None:
        limited = self.policy.limit(kind_of(key)) is not None
        ctx.state["m"][key] = member(version, rank if limited else 0)
        linked = Linked(ctx.key, key, link_lineage)
        ctx.emit(linked)
        self._assign(ctx, key, ctx.key, version, linked.event_id)

    def _assign(self, ctx: Ctx, key: str, owner: str, version: int, by_event_id: str) -> None:
        ctx.emit(Assigned(key, owner, version, by_event_id))
        node = self.identifiers.setdefault(key, IdentifierState())
        if version > node.version:
            node.owner, node.version = owner, version
            self._associate(key, None, ctx.emit)

    def _evict(self, root: str, members: dict[str, int], key: str, saga: Saga, reason: str, ctx: Ctx) -> None:
        """``root`` gives ``key`` up to keep its limit: the identifier belongs to nobody (``on_evict``)."""
        _, message = evict({"m": members}, root, key, saga["e"], saga["ch"], reason)
        node = self.identifiers.setdefault(key, IdentifierState())
        if message["v"] <= node.version:
            return
        node.owner, node.version = None, message["v"]
        self._associate(key, root, ctx.emit)
        ctx.emit(Refused(key, reason, Lineage(saga["e"], saga["ch"], MAX_PER_CUSTOMER), customer_id=root))

    def _associate(self, key: str, other: str | None, emit: Callable[..., None] | None = None) -> list[Output]:
        """Count the customers ``key`` was seen with; past ``shared_after`` it is shared (``associate``)."""
        node = self.identifiers.setdefault(key, IdentifierState())
        others = [c for c in node.others if c != node.owner]
        if other and other != node.owner and other not in others:
            others.append(other)
        kind = kind_of(key)
        customers = len(others) + (1 if node.owner else 0)
        marked: list[Output] = []
        if not node.shared and self.policy.is_shared(kind, customers):
            node.shared = True
            marked.append(SharedMarked(key, customers))
            if emit is not None:
                emit(*marked)
        node.others = others[: self.policy.shared_limit(kind) + 1]
        return [] if emit is not None else marked


"""Late rows on ``customer.identifiers.v1`` are written over by the identifier's owner (#13: compaction).

Readers keep, per identifier, the row of the highest version (``processors.identity.assignments``), so a
row a paused worker writes late, after a newer one, is ignored while both rows exist. Compaction keeps a
key's *last* row whatever its version: once it has run, only the stale row is left and a fresh reader
takes it. The changelogs had the same hole (``bus.fencing``); the cure is the same: the worker that owns
the identifier writes its current row again after the late one, so the key's last row is right again.

How a late row is found: every worker follows the topic (with the fast path's view, ``view_feed``, or
alone, ``RowsFeed``). A row read for an identifier whose graph partition this worker owns is compared with
the identifier node's state (``IdentifierState``: owner and version, the graph's truth). A row older than
the state is *suspect*: it may only be early (the newer row is on its way, or later in the log when the
topic is read from the start). If no row as new as the state follows within ``grace_s``, the row is late,
and the owner publishes the state's row (or a tombstone when the state has no owner).

What keeps a rewrite from doing harm:
* only the owner of the identifier's graph partition writes, outside a rebalance, and only a state whose
  version is above the suspect row's; a stale worker (whose state is older than the log) finds nothing;
* a rewrite states the graph's current decision: ``assigned_at`` is the rewrite's time and
  ``assigned_by_event_id`` is null (the node state does not keep the event); the version is the graph's;
* if a rewrite itself lands after a newer row (the graph moved again meanwhile), it is a late row too and
  is written over in turn: each rewrite carries the highest version the owner knows, so this ends.

Memory: only suspect identifiers are held, not the topic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord
from faust.exceptions import ConsumerNotStarted
from prometheus_client import Counter

from bus.config import OmnibusSettings
from bus.follow import TopicFollower
from bus.log_window import LogWindow
from bus.logging import get_logger
from bus.publish_retry import retriable
from bus.registry_outage import is_outage
from bus.serde import SerdeContext
from bus.tasks import cancel_and_wait
from bus.topics import CUSTOMER_IDENTIFIERS
from processors.identity.assignments import tombstone_version
from processors.identity.graph.outputs import Assigned, Output, Unassigned
from processors.identity.graph.state import IdentifierState
from processors.identity.wire import partition_of

GRACE_S = 10.0  # a worker publishes a batch's rows within a second or two; a row still unmatched after this is late
CHECK_EVERY_S = 2.0
FAILURE_LOG_WINDOW_S = 60.0  # a failing check (the broker away) logs one line a minute, with the count

ROWS_REWRITTEN = Counter(
    "omnibus_identity_assignment_rows_rewritten_total",
    "Rows of customer.identifiers.v1 written again by the identifier's owner after a late, older row "
    "(processors.identity.assignments_repair), so compaction keeps the current row.",
    ["kind"],
)

log = get_logger(__name__, component="identity")

NodeLookup = Callable[[str], object]


@dataclass(slots=True)
class _Suspect:
    version: int  # the version of the suspect row (for a tombstone: the one it ended)
    tombstone: bool
    since_s: float


def is_late(state: IdentifierState, row_version: int, tombstone: bool) -> bool:
    """True when a row (``tombstone``: a tombstone ending ``row_version``) is older than the node's state.

    Readers' rule (``assignments.current_rows``): a row replaces a row of a version not above its own, and a
    row after a tombstone needs a version above the one the tombstone ended."""
    if state.owner is None:  # the truth is "nobody" (evicted at state.version) or nothing decided yet
        return not tombstone and 0 < state.version and row_version <= state.version
    return row_version < state.version


class LateRows:
    """Pure detection: ``observe`` every row read, ``due`` the identifiers to write again.

    ``node(key)``: the identifier's node state (None or another kind: nothing to compare with);
    ``owns(key)``: this worker owns the identifier's graph partition now and is not rebalancing.
    """

    def __init__(self, node: NodeLookup, owns: Callable[[str], bool], grace_s: float = GRACE_S) -> None:
        self._node, self._owns, self.grace_s = node, owns, grace_s
        self._suspects: dict[str, _Suspect] = {}

    def __len__(self) -> int:
        return len(self._suspects)

    def _state(self, key: str) -> IdentifierState | None:
        if not self._owns(key):
            return None
        state = self._node(key)
        return state if isinstance(state, IdentifierState) else None

    def observe(self, key: str, row_version: int, tombstone: bool, now_s: float) -> None:
        """One row read (``row_version``: the row's version; for a tombstone, the version it ended, 0 if none)."""
        state = self._state(key)
        if state is None or not is_late(state, row_version, tombstone):
            self._suspects.pop(key, None)  # the last row read matches (or nobody here can judge it)
            return
        held = self._suspects.get(key)
        if held is None:
            self._suspects[key] = _Suspect(row_version, tombstone, now_s)
        else:
            held.version, held.tombstone = row_version, tombstone

    def due(self, now_s: float) -> list[Output]:
        """The rows to write again: the current state of each identifier whose suspect row is older than
        ``grace_s`` and still older than the state (``Assigned``, or ``Unassigned`` for no owner)."""
        outputs: list[Output] = []
        for key, suspect in list(self._suspects.items()):
            if now_s - suspect.since_s < self.grace_s:
                continue
            del self._suspects[key]
            state = self._state(key)
            if state is None or not is_late(state, suspect.version, suspect.tombstone):
                continue
            if state.owner is None:
                outputs.append(Unassigned(key, state.version))
            else:
                outputs.append(Assigned(key, state.owner, state.version, ""))
        return outputs


class RowsFeed(TopicFollower):
    """Follows ``customer.identifiers.v1`` for the repair when the fast path's view (``ViewFeed``) is off, or
    once for a rescan (``done`` is set when the end offsets seen at its start are read)."""

    def __init__(self, settings: OmnibusSettings, *, poll_ms: int = 200) -> None:
        super().__init__(settings, [CUSTOMER_IDENTIFIERS], "identity-rows-feed", poll_ms=poll_ms)
        self.done = asyncio.Event()

    def on_record(self, record: ConsumerRecord) -> None:
        """Nothing of its own: the repair listens (``TopicFollower.listeners``)."""

    def on_caught_up(self) -> None:
        self.done.set()


def graph_ownership(app: Any, graph_topic: str) -> Callable[[], frozenset[int] | None]:
    """The graph partitions faust ``app`` owns now, or None while it rebalances or restores its tables (its
    node states are not yet the truth)."""

    # Asked once per row read (#9: faust builds the assignment's set anew at every call, ~5 µs an event), so it is
    # kept per consumer generation: the assignment changes only in a rebalance, which faust flags (``rebalancing``,
    # set before the assignment changes) until the new generation's tables are restored.
    known: dict[int, frozenset[int]] = {}

    def owned() -> frozenset[int] | None:
        if app.rebalancing or getattr(app, "in_recovery", False):
            return None
        generation = getattr(app, "consumer_generation_id", None)
        if isinstance(generation, int) and generation in known:
            return known[generation]
        try:
            assigned = app.consumer.assignment()
        except ConsumerNotStarted:  # before the worker's consumer starts, or after it stopped: owns nothing yet
            return None
        partitions = frozenset(tp.partition for tp in assigned if tp.topic == graph_topic)
        if isinstance(generation, int) and generation >= 0:
            known.clear()
            known[generation] = partitions
        return partitions

    return owned


def owns_key(owned: Callable[[], frozenset[int] | None], partitions: Callable[[], int]) -> Callable[[str], bool]:
    """``owns(identifier key)``: its graph partition (``wire.partition_of``) is in ``owned()``."""

    def owns(key: str) -> bool:
        held = owned()
        return held is not None and partition_of(key, partitions()) in held

    return owns


class AssignmentRepair:
    """Feeds ``LateRows`` from a follower of the topic and publishes the rewrites every ``check_every_s``.

    ``feed``: a follower of the topic (it adds itself to its listeners);
    ``deserialize(value, record)``: the ``IdentifierAssignment`` of a row; ``publish(outputs)``: the
    processor's own publish path (rows and tombstones through ``Announcer``); ``owned()``: the graph
    partitions owned now (``graph_ownership``). After every rebalance (``on_assigned``) the topic is read once
    more from the start (``rescan``): a late row read while another worker owned its identifier, or during the
    rebalance, is judged by the new owner.
    """

    def __init__(self, settings: OmnibusSettings, feed: TopicFollower, rows: LateRows,
                 deserialize: Callable[[bytes, ConsumerRecord], Any],
                 publish: Callable[[Sequence[Output]], Awaitable[None]],
                 owned: Callable[[], frozenset[int] | None], *, check_every_s: float = CHECK_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings, self.rows, self._deserialize, self._publish = settings, rows, deserialize, publish
        self._owned, self.check_every_s, self._clock = owned, check_every_s, clock
        self._scanned: frozenset[int] | None = None
        self._task: asyncio.Task[None] | None = None
        self.feed = feed  # the follower of the topic it listens to, started and stopped by its owner
        feed.listeners.append(self.observe)
        self.rescans = 0
        self._failures = LogWindow(FAILURE_LOG_WINDOW_S, clock=clock)  # per error type

    def observe(self, record: ConsumerRecord) -> None:
        """A listener of the follower: one record of ``customer.identifiers.v1``."""
        if record.key is None:
            return
        key = record.key.decode(errors="replace")
        if record.value is None:
            self.rows.observe(key, tombstone_version(record.headers) or 0, True, self._clock())
            return
        try:
            version = int(self._deserialize(record.value, record).get("version") or 0)
        except Exception as error:  # noqa: BLE001 - a row nobody can read cannot be judged; readers skip it too
            if is_outage(error):
                raise  # the registry did not answer: the follower waits and calls again (bus.follow)
            return
        self.rows.observe(key, version, False, self._clock())

    async def on_assigned(self, *_: Any, **__: Any) -> None:
        """faust's ``on_partitions_assigned``: every rebalance asks for a rescan, even if this worker keeps the
        same partitions (a late row read while it rebalanced was not judged)."""
        self._scanned = None

    async def rescan(self) -> None:
        """Read the topic from the start up to its end offsets now, judging every row (``observe``)."""
        feed = RowsFeed(self.settings)
        feed.listeners.append(self.observe)
        await feed.start()
        try:
            await feed.done.wait()
        finally:
            await feed.stop()
        self.rescans += 1
        log.info("assignment topic read again after a rebalance", suspects=len(self.rows))

    async def check(self) -> int:
        """Rescan if the owned partitions changed, then publish the rewrites that are due; returns how many."""
        owned = self._owned()
        if owned is not None and owned != self._scanned:
            self._scanned = owned
            await self.rescan()
        outputs = self.rows.due(self._clock())
        if outputs:
            await self._publish(outputs)
            for output in outputs:
                ROWS_REWRITTEN.labels(kind="row" if isinstance(output, Assigned) else "tombstone").inc()
            log.warning("late rows on the assignment topic written over with the current ones", rows=len(outputs))
        return len(outputs)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.check_every_s)
            await self.check_or_note()

    async def check_or_note(self) -> None:
        """``check``, kept alive through any error: the next check rescans and judges again. A failure is logged
        at once, then at most once per ``FAILURE_LOG_WINDOW_S`` per error type with how many failed since the last
        line (a broker outage failed every check, each logging a traceback every ``check_every_s``); a transient
        Kafka error (``bus.publish_retry.retriable``) without its traceback."""
        try:
            await self.check()
        except Exception as error:  # noqa: BLE001 - see above
            self._scanned = None
            failures = self._failures.due(type(error).__name__)
            if failures is None:
                return
            transient = retriable(error)
            (log.warning if transient else log.error)(
                "the assignment repair failed; it rescans on its next check", error_type=type(error).__name__,
                error=str(error)[:300], failures_since_last_line=failures, log_window_s=self._failures.window_s,
                exc_info=not transient)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="identity-assignment-repair")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None


def assignment_repair(processor: Any, deserializer: Any, partitions: Callable[[], int]) -> AssignmentRepair:
    """The repair of an ``IdentityProcessor``: it listens to the fast path's ``ViewFeed`` when there is one (one
    consumer for both), else to a ``RowsFeed`` of its own (``feed``, started and stopped with the producer)."""
    owned = graph_ownership(processor.app, processor.graph_topic_name)
    topic = CUSTOMER_IDENTIFIERS.name(processor.settings.topics)

    view_feed = processor.view_feed

    def deserialize(value: bytes, record: ConsumerRecord) -> Any:
        last = view_feed.last_row if view_feed is not None else None
        if last is not None and last[0] is value:  # the view feed decoded this very record a moment ago
            return last[1]
        return deserializer(value, SerdeContext(topic=topic, key=record.key)).value

    rows = LateRows(processor.store.get_node, owns_key(owned, partitions))
    feed = processor.view_feed or RowsFeed(processor.settings)
    repair = AssignmentRepair(processor.settings, feed, rows, deserialize, processor.publish, owned)
    processor.app.on_partitions_assigned.connect(repair.on_assigned)
    return repair

"""A commit whose partitions all moved during a rebalance is dropped, not a crash of the worker.

faust's main loop picks the partitions to commit against the assignment it sees
(``Consumer._commit_offsets``), flushes the producer (twice here: ``bus.changelog_first``), then hands the offsets
to its consumer thread, which keeps only those still assigned there (``AIOKafkaConsumerThread._commit``,
faust-streaming 0.15). A rebalance in between (a session that expired while the process was starved of CPU, a
member that joined) can leave none, and faust passes the empty map to aiokafka anyway: ``AIOKafkaConsumer.commit``
raises ``ValueError({})`` (or ``IllegalStateError``, "No partitions assigned", for a subscription not assigned
yet), and faust answers any such error with ``crash``: the worker exits 1 (``bus.worker_exit``) although nothing
was wrong.

``install`` makes the thread's commit return ``False`` (not committed) when none of the offsets is assigned to it
any more. Nothing is lost: those partitions' new owner reads on from their committed offsets (at-least-once; the
processors dedupe on event ids), and nothing is committed that this worker does not own. The check and aiokafka's
own run in the same step of the thread's loop, so the assignment cannot change between them. faust's other
commit errors keep its crash: ``CommitFailedError`` for a group that rebalanced is already "not committed"; what
is left (authorization, an offset or metadata the broker refuses) comes back on every commit, so going on would
only pile up records that can never be committed.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bus.logging import get_logger

log = get_logger(__name__)


def assigned_only(original: Callable[..., Awaitable[bool]]) -> Callable[..., Awaitable[bool]]:
    """``AIOKafkaConsumerThread._commit`` (``offsets``: faust ``TP`` -> next offset to read) that returns ``False``
    without asking aiokafka when none of ``offsets`` (or nothing at all) is in the thread's assignment, else
    commits as ``original`` (which keeps only the assigned ones)."""

    @functools.wraps(original)
    async def _commit(self: Any, offsets: Mapping[Any, int]) -> bool:
        assigned = self.assignment()
        if not any(tp in assigned for tp in offsets):  # aiokafka refuses an empty commit: nothing to do
            if offsets:
                log.info(
                    "commit dropped: its partitions moved in a rebalance; their new owner reads them again",
                    partitions=[f"{tp.topic}:{tp.partition}" for tp in sorted(offsets)],
                )
            return False
        return await original(self, offsets)

    _commit.omnibus_commit_assigned = True  # type: ignore[attr-defined]
    return _commit


def install() -> None:
    """Patch faust's aiokafka consumer thread's ``_commit`` once per process."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    if not getattr(AIOKafkaConsumerThread._commit, "omnibus_commit_assigned", False):  # noqa: SLF001
        AIOKafkaConsumerThread._commit = assigned_only(AIOKafkaConsumerThread._commit)  # type: ignore[method-assign,assignment]  # noqa: SLF001

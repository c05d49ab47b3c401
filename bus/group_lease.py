"""How long a worker may still count on its consumer-group membership: its *lease* (#13 build 1).

Kafka's group coordinator removes a member ``session.timeout.ms`` after the last heartbeat it received,
rebalances, and hands the member's partitions to the others (Kafka documentation, consumer configs
``session.timeout.ms`` and ``heartbeat.interval.ms``). The member itself learns this only from the answer to its
next heartbeat (``UNKNOWN_MEMBER_ID``). A worker frozen past its session timeout (SIGSTOP, a paused VM, a long
stall of the process) therefore resumes with an assignment that is no longer its own, and until that answer
arrives it would process and publish batches on partitions another worker has owned since.

The lease closes that window. It starts when a heartbeat that succeeded was *sent* (the broker's timer started
no earlier) and when a (re)join completed (faust's ``on_partitions_assigned``), and lasts the session timeout
minus one heartbeat interval. A heartbeat answered with a membership error (the coordinator reset the member id)
ends it at once. ``bus.fencing.AssignmentFence`` refuses to publish without it; ``confirm`` waits a moment for the
next heartbeat instead of refusing a batch only because the lease ran short while the worker was busy.

Not covered: while the group rebalances, heartbeats succeed (``REBALANCE_IN_PROGRESS``) until the member's
rebalance timeout; a member dropped at that timeout keeps its lease for at most one lease length after its last
heartbeat. A publish already handed to the producer when the process froze is sent when it resumes; the
changelog fence (``bus.fencing``) and the readers' version rules cover those records.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bus.logging import get_logger

log = get_logger(__name__)
CONFIRM_POLL_S = 0.02


class GroupLease:
    """The membership lease of one consumer (times in seconds of ``clock``, a monotonic clock).

    ``length_s``: how long a renewal holds (session timeout minus one heartbeat interval, > 0).
    """

    def __init__(self, length_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if length_s <= 0:
            raise ValueError(f"a lease of {length_s} s: the session timeout must exceed the heartbeat interval")
        self.length_s = length_s
        self._clock = clock
        self._renewed_at: float | None = None
        self._lost = False

    def renew(self, at: float | None = None) -> None:
        """The broker counted this consumer a member at ``at`` (default: now)."""
        self._renewed_at = self._clock() if at is None else at
        self._lost = False

    def lose(self) -> None:
        """The broker no longer counts this consumer a member (its member id was reset)."""
        self._lost = True

    @property
    def lost(self) -> bool:
        return self._lost

    def held(self) -> bool:
        """True while the last renewal is younger than ``length_s`` and no membership error came since."""
        return (not self._lost and self._renewed_at is not None
                and self._clock() - self._renewed_at < self.length_s)

    async def confirm(self, within_s: float) -> bool:
        """``held()``, after waiting up to ``within_s`` seconds for a heartbeat to renew a lease that ran out
        (or to say the membership is lost)."""
        deadline = self._clock() + within_s
        while not self.held() and not self._lost and self._clock() < deadline:
            await asyncio.sleep(CONFIRM_POLL_S)
        return self.held()

    def watch(self, coordinator: Any) -> None:
        """Renew on every heartbeat of ``coordinator`` (aiokafka's ``GroupCoordinator``) that succeeds, from the
        time it was sent; lose on one after which the coordinator has no member id. Idempotent."""
        heartbeat: Callable[[], Awaitable[bool]] = coordinator._do_heartbeat  # noqa: SLF001 - no public hook
        if getattr(heartbeat, "_omnibus_lease", None) is self:
            return

        async def renewing_heartbeat() -> bool:
            sent_at = self._clock()
            succeeded = await heartbeat()
            if succeeded:
                self.renew(sent_at)
            elif not coordinator.member_id:  # aiokafka's reset_generation: UNKNOWN_MEMBER_ID is ""
                self.lose()
            return succeeded

        renewing_heartbeat._omnibus_lease = self  # type: ignore[attr-defined]
        coordinator._do_heartbeat = renewing_heartbeat  # noqa: SLF001


def install(app: Any) -> GroupLease:
    """The lease of faust ``app``'s consumer: renewed when partitions are assigned (a join completed) and by its
    heartbeats, which faust's consumer thread sends (``broker_heartbeat_interval``), so a busy event loop does
    not delay them."""
    conf = app.conf
    lease = GroupLease(float(conf.broker_session_timeout) - float(conf.broker_heartbeat_interval))

    async def on_assigned(_app: Any, /, *_: Any, **__: Any) -> None:
        lease.renew()
        thread = getattr(app.consumer, "_thread", None)  # faust runs aiokafka's consumer in a thread of its own
        consumer = thread._ensure_consumer() if thread is not None else None  # noqa: SLF001
        coordinator = getattr(consumer, "_coordinator", None)
        if coordinator is None:
            log.warning("no group coordinator to watch: the membership lease is renewed at assignments only")
            return
        lease.watch(coordinator)

    app.on_partitions_assigned.connect(on_assigned)
    return lease

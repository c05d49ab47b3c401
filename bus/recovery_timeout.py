"""A table recovery step that times out restarts the recovery instead of ending it for good (#13: a worker alive
that processed nothing after an early broker outage).

faust's ``Recovery._restart_recovery`` runs each step of a restore (producer flush, highwaters, the offsets to read
from, the seeks) through ``Recovery._wait(coro, timeout=broker_request_timeout)``, which asks mode's
``Service.wait_first``. mode reports a timeout the way it reports a stopped service (``WaitResults([], [], True)``:
nothing done, ``stopped`` True; mode-streaming 0.7.1 ``mode/services.py`` ``wait_first``), so faust raises
``ServiceStopped`` and ``_restart_recovery`` leaves its loop (faust-streaming 0.15.3 ``faust/tables/recovery.py``:
``except ServiceStopped: break``) while the worker runs on. The app then waits for a restore that no task will ever
finish (``App.on_started`` → ``TableManager.wait_until_recovery_completed``): it never says "Worker ready", never
starts its timers (the project's watchdogs among them: ``bus.lag_watchdog``, ``bus.recovery_watchdog``), and never
processes a record; nothing is logged above faust's dev level.

Seen in ``tests/faults/test_broker.py`` (60 s outage struck as soon as the processors joined): identity was reading
its committed offsets (``OffsetFetchRequest``) when the broker died; that step outlived the timeout, the recovery
task ended, and 3 minutes after the broker was back identity had committed 0 of 417 records, its task dump showing
``App.on_started`` waiting on the recovery and no ``Recovery._restart_recovery`` task left.

The same step can also fail first with aiokafka's own timeout (``KafkaTimeoutError: Failed to get offsets by times
in 90000 ms`` from ``earliest_offsets`` in ``_build_offsets``, a 100 s outage struck as identity started its
restore): faust re-raises it from ``_restart_recovery`` and the worker crashed with status 1.

``install`` replaces ``Recovery._wait``: a wait that ended with the service neither stopped nor crashed and no
rebalance signalled timed out, and a step that raised a retriable Kafka error (``bus.publish_retry.retriable``)
failed for a transient reason; either is logged, and after ``RESTART_AFTER_S`` the recovery starts over
(``signal_recovery_start`` set, then faust's own ``RebalanceAgain``: the loop reads the highwaters and offsets again
once the broker answers). A real stop, a new rebalance and any other error behave as before.
"""

from __future__ import annotations

import asyncio
from typing import Any, NoReturn

from bus.logging import get_logger
from bus.publish_retry import retriable

log = get_logger(__name__)
RESTART_AFTER_S = 1.0  # a broker that refuses at once must not make the restarts a busy loop


async def restartable_wait(self: Any, coro: Any, timeout: Any = None) -> None:
    """faust's ``Recovery._wait``, with a timeout restarting the recovery (see the module)."""
    from faust.tables.recovery import RebalanceAgain, ServiceStopped

    signal = self.signal_recovery_start
    try:
        result = await self.wait_first(coro, signal, timeout=timeout)
    except Exception as exc:
        if not retriable(exc):
            raise
        log.warning("a table recovery step failed for a transient reason; starting the recovery again",
                    error_type=type(exc).__name__, error=str(exc)[:300])
        await _restart(signal)
    if signal in result.done:
        raise RebalanceAgain()  # another rebalance started
    if not result.stopped:
        return None
    if self._stopped.is_set() or self._crashed.is_set():  # noqa: SLF001 - mode's own flags of a stopped service
        raise ServiceStopped()
    log.warning("a table recovery step timed out; starting the recovery again", timeout_s=timeout)
    await _restart(signal)


async def _restart(signal: asyncio.Event) -> NoReturn:
    from faust.tables.recovery import RebalanceAgain

    await asyncio.sleep(RESTART_AFTER_S)
    signal.set()
    raise RebalanceAgain()


def install() -> None:
    """Patch faust's ``Recovery._wait`` once per process."""
    from faust.tables.recovery import Recovery

    if Recovery._wait is not restartable_wait:  # noqa: SLF001
        Recovery._wait = restartable_wait  # type: ignore[method-assign] # noqa: SLF001

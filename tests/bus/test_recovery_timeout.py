"""``bus.recovery_timeout``: a restore step that times out restarts faust's recovery instead of ending it (#13)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError
from faust.tables.recovery import RebalanceAgain, ServiceStopped
from mode import Service

from bus import recovery_timeout
from bus.recovery_timeout import restartable_wait


@pytest.fixture(autouse=True)
def restart_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recovery_timeout, "RESTART_AFTER_S", 0.0)


class Restoring(Service):
    """What ``Recovery._wait`` reads of faust's ``Recovery``: mode's waits and the rebalance signal."""

    def __init__(self) -> None:
        super().__init__()
        self.signal_recovery_start = asyncio.Event()


async def never() -> None:
    await asyncio.sleep(3600)


async def test_a_step_that_times_out_restarts_the_recovery() -> None:
    """mode's ``wait_first`` reports the timeout as ``stopped``; faust's own ``_wait`` raised ``ServiceStopped`` and
    its recovery loop ended for good while the worker ran on."""
    recovery = Restoring()
    with pytest.raises(RebalanceAgain):
        await restartable_wait(recovery, never(), timeout=0.01)
    assert recovery.signal_recovery_start.is_set()  # the loop starts the recovery again at once


async def test_a_step_that_failed_for_a_transient_reason_restarts_the_recovery() -> None:
    """A 100 s outage struck as identity started its restore: aiokafka's own timeout came first and faust re-raised
    it from ``_restart_recovery``; the worker crashed."""

    async def earliest_offsets() -> None:
        raise KafkaTimeoutError("Failed to get offsets by times in 90000 ms")

    recovery = Restoring()
    with pytest.raises(RebalanceAgain):
        await restartable_wait(recovery, earliest_offsets(), timeout=90.0)
    assert recovery.signal_recovery_start.is_set()


async def test_any_other_error_is_raised_as_before() -> None:
    async def bug() -> None:
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        await restartable_wait(Restoring(), bug(), timeout=90.0)


async def test_a_step_that_completes_returns() -> None:
    async def step() -> int:
        return 1

    assert await restartable_wait(Restoring(), step(), timeout=1.0) is None


async def test_a_new_rebalance_and_a_stop_behave_as_before() -> None:
    recovery = Restoring()
    recovery.signal_recovery_start.set()
    with pytest.raises(RebalanceAgain):
        await restartable_wait(recovery, never(), timeout=1.0)
    stopped: Any = Restoring()
    stopped._stopped.set()  # noqa: SLF001 - mode's flag of a stopped service
    with pytest.raises(ServiceStopped):
        await restartable_wait(stopped, never(), timeout=1.0)
    assert not stopped.signal_recovery_start.is_set()


async def test_faust_still_reports_a_timeout_as_stopped() -> None:
    """The mode behaviour this works around; when it changes, the patch may go."""
    result = await Restoring().wait_first(never(), timeout=0.01)
    assert result.stopped and not result.done

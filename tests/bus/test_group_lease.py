from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bus.fencing import AssignmentFence
from bus.group_lease import GroupLease


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Coordinator:
    """What the lease reads of aiokafka's ``GroupCoordinator``: ``_do_heartbeat`` and ``member_id``."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.member_id = "omnibus-identity-1"
        self.answer = True
        self.round_trip_s = 0.5

    async def _do_heartbeat(self) -> bool:
        self.clock.now += self.round_trip_s
        if self.answer is None:  # UNKNOWN_MEMBER_ID: aiokafka resets the generation and the member id
            self.member_id = ""
            return False
        return self.answer


def test_a_lease_holds_for_its_length_after_a_renewal_and_ends_when_the_membership_is_lost() -> None:
    clock = Clock()
    lease = GroupLease(5.0, clock)
    assert not lease.held()  # never assigned
    lease.renew()
    clock.now += 4.9
    assert lease.held()
    clock.now += 0.2
    assert not lease.held()  # frozen past the session timeout: the broker may have moved the partitions
    lease.renew()
    lease.lose()
    assert not lease.held() and lease.lost
    lease.renew()  # the next assignment
    assert lease.held() and not lease.lost


def test_a_lease_of_no_length_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="session timeout must exceed the heartbeat interval"):
        GroupLease(0.0)


async def test_a_heartbeat_renews_from_when_it_was_sent_and_a_reset_member_id_loses_the_lease() -> None:
    clock = Clock()
    lease = GroupLease(5.0, clock)
    coordinator = Coordinator(clock)
    lease.watch(coordinator)
    lease.watch(coordinator)  # idempotent: one wrapper
    sent_at = clock.now
    assert await coordinator._do_heartbeat()
    clock.now = sent_at + 4.9  # 4.4 s after the answer, 4.9 s after the broker may have heard it
    assert lease.held()
    clock.now = sent_at + 5.0
    assert not lease.held()
    coordinator.answer = False  # a request that timed out: no renewal, but the member id is kept
    assert not await coordinator._do_heartbeat()
    assert not lease.lost
    coordinator.answer = None
    lease.renew()
    assert not await coordinator._do_heartbeat()
    assert lease.lost and not lease.held()


async def test_confirm_waits_for_the_next_heartbeat_and_stops_waiting_when_the_membership_is_lost() -> None:
    lease = GroupLease(0.05)
    lease.renew()
    await asyncio.sleep(0.06)
    assert not lease.held()

    async def renew_soon() -> None:
        await asyncio.sleep(0.05)
        lease.renew()

    renewal = asyncio.create_task(renew_soon())
    assert await lease.confirm(5.0)  # a busy moment: the heartbeat comes
    await renewal
    await asyncio.sleep(0.06)
    assert not await lease.confirm(0.05)  # none came within the wait

    async def lose_soon() -> None:
        await asyncio.sleep(0.05)
        lease.lose()

    loss = asyncio.create_task(lose_soon())
    started = asyncio.get_running_loop().time()
    assert not await lease.confirm(30.0)
    assert asyncio.get_running_loop().time() - started < 10.0  # answered by the loss, not the wait's end
    await loss


async def test_a_fence_with_a_lease_that_ran_out_refuses_to_publish_though_nothing_was_revoked() -> None:
    clock = Clock()
    lease = GroupLease(5.0, clock)
    owned: set[Any] = {("graph", 0)}
    fence = AssignmentFence(lambda: owned, "test-lease", lease=lease, confirm_within_s=0.0)
    lease.renew()
    stamp = fence.stamp()
    await fence.confirm()
    assert fence.allows(stamp, [("graph", 0)])
    clock.now += 18.0  # SIGSTOP for three session timeouts; the heartbeat's answer is not in yet
    await fence.confirm()
    assert not fence.allows(stamp, [("graph", 0)])
    lease.renew()
    assert fence.allows(stamp, [("graph", 0)])

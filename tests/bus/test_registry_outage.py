"""``bus.registry_outage``: a registry that does not answer is waited for; one that answers "no such id" is not."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bus.errors import RegistryLookupDeferred, SchemaRegistryError
from bus.registry_outage import (
    FIRST_DELAY_S,
    MAX_DELAY_S,
    REGISTRY_UNREACHABLE,
    RegistryOutage,
    deferring_lookups,
    is_outage,
    lookups_off_loop,
    retry_delay,
    until_registry_answers,
)

UNREACHABLE = SchemaRegistryError("schema registry at http://r unreachable: [Errno 111] Connection refused",
                                  retriable=True)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Lookup:
    """Fails with ``errors`` in turn, then answers ``"schema"``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors, self.calls = list(errors), 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "schema"


def test_an_unreachable_registry_5xx_and_429_are_outages_a_4xx_is_not() -> None:
    assert is_outage(UNREACHABLE)
    assert is_outage(SchemaRegistryError("answered 503", status=503, retriable=True))
    assert is_outage(SchemaRegistryError("answered 429", status=429, retriable=True))
    assert not is_outage(SchemaRegistryError("answered 404 to get schema id 9: not found", status=404))
    assert not is_outage(ValueError("not a registry error"))


def test_the_delay_doubles_from_the_first_up_to_the_cap() -> None:
    delays = [retry_delay(attempt) for attempt in range(1, 10)]
    assert delays[0] == FIRST_DELAY_S and delays[1] == 2 * FIRST_DELAY_S
    assert delays == sorted(delays) and max(delays) == MAX_DELAY_S


async def test_a_lookup_waits_through_an_outage_and_answers_when_the_registry_does() -> None:
    clock = FakeClock()
    outage = RegistryOutage(clock=clock)
    seen: list[str | None] = []

    async def sleep(seconds: float) -> None:
        seen.append(outage.reason())
        await clock.sleep(seconds)

    lookup = Lookup(*[UNREACHABLE] * 6)
    assert await until_registry_answers(lookup, outage=outage, sleep=sleep) == "schema"
    assert lookup.calls == 7
    assert clock.slept == [retry_delay(n) for n in range(1, 7)]
    assert all(reason is not None and "schema registry has not answered" in reason for reason in seen)
    assert "Connection refused" in (seen[-1] or "")
    assert outage.reason() is None and not outage.ongoing()  # answered: /ready follows the rest again
    assert REGISTRY_UNREACHABLE._value.get() == 0  # noqa: SLF001


async def test_a_registry_that_answers_no_is_not_waited_for() -> None:
    clock = FakeClock()
    outage = RegistryOutage(clock=clock)
    missing = SchemaRegistryError("schema registry answered 404 to get schema id 9", status=404)
    with pytest.raises(SchemaRegistryError) as raised:
        await until_registry_answers(Lookup(missing), outage=outage, sleep=clock.sleep)
    assert raised.value is missing and clock.slept == [] and not outage.ongoing()


async def test_the_outage_window_is_logged_once_when_it_opens_and_once_when_it_closes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from structlog.testing import capture_logs

    from bus import registry_outage
    from bus.logging import get_logger

    monkeypatch.setattr(registry_outage, "log", get_logger(registry_outage.__name__))  # first used in capture_logs
    clock = FakeClock()
    outage = RegistryOutage(clock=clock)
    with capture_logs() as lines:
        await until_registry_answers(Lookup(*[UNREACHABLE] * 5), outage=outage, sleep=clock.sleep)
    events = [line["event"] for line in lines]
    assert len(events) == 2, events
    assert "does not answer" in events[0] and "answers again" in events[1]
    assert lines[1]["waited_s"] == sum(clock.slept)


async def test_a_wait_cancelled_by_a_stop_leaves_no_outage_behind() -> None:
    outage = RegistryOutage()

    async def stopped(seconds: float) -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await until_registry_answers(Lookup(UNREACHABLE), outage=outage, sleep=stopped)
    assert not outage.ongoing() and outage.waiting == 0


class Remote:
    """A registry call (``SchemaRegistryError.lookup``): fails with ``errors`` in turn, then caches its answer;
    records the thread of each call."""

    def __init__(self, *errors: Exception) -> None:
        self.errors, self.threads, self.cached = list(errors), [], False

    def __call__(self) -> None:
        self.threads.append(threading.get_ident())
        assert not deferring_lookups()  # a call made here is made, not deferred again
        if self.errors:
            raise self.errors.pop(0)
        self.cached = True


class OnLoopStep:
    """A step that must run on the loop (it changes the worker's state) and needs what ``remote`` fetches: within
    ``lookups_off_loop`` it defers the call while not cached, as ``bus.serde.registry`` does."""

    def __init__(self, remote: Remote) -> None:
        self.remote, self.threads = remote, []

    def __call__(self) -> str:
        self.threads.append(threading.get_ident())
        if not self.remote.cached:
            assert deferring_lookups()
            raise RegistryLookupDeferred("get schema id 9", self.remote)
        return "done"


async def test_a_round_trip_a_step_on_the_loop_needs_is_made_in_a_thread_and_the_step_run_again() -> None:
    clock = FakeClock()
    outage = RegistryOutage(clock=clock)
    remote = Remote()
    step = OnLoopStep(remote)
    assert await until_registry_answers(step, outage=outage, sleep=clock.sleep) == "done"
    loop_thread = threading.get_ident()
    assert step.threads == [loop_thread, loop_thread] and remote.threads[0] != loop_thread
    assert clock.slept == [] and not outage.ongoing()  # a deferred call is no outage


async def test_while_the_registry_does_not_answer_only_its_call_is_retried_in_a_thread_not_the_step() -> None:
    clock = FakeClock()
    outage = RegistryOutage(clock=clock)
    timed_out = SchemaRegistryError("schema registry at http://r unreachable: timed out", retriable=True)
    remote = Remote(timed_out, timed_out, timed_out)
    step = OnLoopStep(remote)
    assert await until_registry_answers(step, outage=outage, sleep=clock.sleep) == "done"
    assert len(step.threads) == 2 and len(remote.threads) == 4  # the step: deferred, then done
    assert threading.get_ident() not in remote.threads
    assert clock.slept == [retry_delay(n) for n in range(1, 4)] and not outage.ongoing()


def test_only_a_call_within_lookups_off_loop_is_deferred() -> None:
    assert not deferring_lookups()
    with lookups_off_loop():
        assert deferring_lookups()
    assert not deferring_lookups()


async def test_a_call_the_registry_answers_no_to_is_met_by_the_step_itself() -> None:
    """A 4xx is the step's to judge (the deserializer makes it a poison record): it runs again, its calls made."""
    missing = SchemaRegistryError("schema registry answered 404 to get schema id 9", status=404)
    remote = Remote(missing)
    outage = RegistryOutage()

    def step() -> str:
        if deferring_lookups():
            raise RegistryLookupDeferred("get schema id 9", remote)
        raise ValueError("schema id 9 unknown to the registry")  # what the deserializer raises on the 404

    with pytest.raises(ValueError, match="unknown to the registry"):
        await until_registry_answers(step, outage=outage)
    assert len(remote.threads) == 1 and not outage.ongoing()

"""A batch counts as done only once its changelog and every earlier batch's are acknowledged."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bus.errors import PublishError
from processors.identity.state_writes import StateWrites


async def test_a_later_batch_settles_only_after_every_earlier_changelog_even_if_its_own_came_first() -> None:
    writes = StateWrites()
    loop = asyncio.get_running_loop()
    first_changelog, second_changelog = loop.create_future(), loop.create_future()
    first, second = writes.settled(first_changelog), writes.settled(second_changelog)
    second_changelog.set_result(None)  # the later batch's changelog acknowledged first
    await asyncio.sleep(0.01)
    assert not first.done() and not second.done()
    first_changelog.set_result(None)
    await asyncio.wait_for(second, 1)
    assert first.done()


async def test_a_batch_after_one_whose_changelog_failed_does_not_count_as_done() -> None:
    writes = StateWrites()
    loop = asyncio.get_running_loop()
    failing: asyncio.Future[None] = loop.create_future()
    first = writes.settled(failing)
    second = writes.settled(asyncio.sleep(0))
    failing.set_exception(PublishError("not acknowledged", retriable=True))
    with pytest.raises(PublishError):
        await first
    with pytest.raises(PublishError, match="earlier batch"):
        await second


async def test_drained_waits_for_every_changelog_in_flight() -> None:
    writes = StateWrites()
    changelog: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    writes.settled(changelog)
    drained = asyncio.create_task(writes.drained(5.0))
    await asyncio.sleep(0.01)
    assert not drained.done()
    changelog.set_result(None)
    assert await asyncio.wait_for(drained, 1) is True


async def test_drained_waits_for_the_batch_that_holds_the_lock_to_hand_its_changelog_over() -> None:
    writes = StateWrites()
    changelog: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    await writes.lock.acquire()  # a batch between reading its states and handing its changelog over
    drained = asyncio.create_task(writes.drained(5.0))
    await asyncio.sleep(0.01)
    writes.settled(changelog)
    writes.lock.release()
    await asyncio.sleep(0.01)
    assert not drained.done()  # its changelog, handed over after the wait began, is waited for too
    changelog.set_result(None)
    assert await asyncio.wait_for(drained, 1) is True


async def test_drained_ends_on_a_refused_changelog_and_after_its_time_on_one_never_answered() -> None:
    writes = StateWrites()
    refused: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    first = writes.settled(refused)
    refused.set_exception(PublishError("not acknowledged", retriable=True))
    assert await writes.drained(1.0) is True  # the refusal is its batch's to raise
    with pytest.raises(PublishError):
        await first
    writes.settled(asyncio.get_running_loop().create_future())
    assert await writes.drained(0.05) is False


async def test_a_batchs_done_markers_go_after_its_changelog_and_the_earlier_batchs_markers_and_it_waits_for_them(
) -> None:
    writes = StateWrites()
    loop = asyncio.get_running_loop()
    sent: list[str] = []
    first_changelog, second_changelog = loop.create_future(), loop.create_future()
    first_marker: asyncio.Future[None] = loop.create_future()

    def done(name: str, acknowledged: asyncio.Future[None] | None = None) -> Any:
        async def send() -> None:
            sent.append(name)
            if acknowledged is not None:
                await acknowledged
        return send

    first = writes.settled(first_changelog, done("first", first_marker))
    second = writes.settled(second_changelog, done("second"))
    second_changelog.set_result(None)
    await asyncio.sleep(0.01)
    assert sent == []  # nothing before its own changelog is acknowledged, nor before an earlier batch's markers
    first_changelog.set_result(None)
    await asyncio.sleep(0.01)
    assert sent == ["first"] and not first.done() and not second.done()  # not done before its markers are
    first_marker.set_result(None)
    await asyncio.wait_for(second, 1)
    assert sent == ["first", "second"] and first.done()


async def test_a_refused_changelog_sends_no_done_marker() -> None:
    writes = StateWrites()
    loop = asyncio.get_running_loop()
    sent: list[str] = []
    refused: asyncio.Future[None] = loop.create_future()

    async def send() -> None:
        sent.append("marker")

    first = writes.settled(refused, send)
    second = writes.settled(asyncio.sleep(0), send)
    refused.set_exception(PublishError("not acknowledged", retriable=True))
    for batch in (first, second):
        with pytest.raises(PublishError):
            await batch
    assert sent == []

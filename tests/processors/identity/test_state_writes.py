"""A batch counts as done only once its changelog and every earlier batch's are acknowledged."""

from __future__ import annotations

import asyncio

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

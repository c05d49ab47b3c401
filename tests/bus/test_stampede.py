"""faust's shared operations (mode's ``StampedeWrapper``) survive a cancelled waiter and hand errors to waiters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from mode.utils.futures import StampedeWrapper

from bus import stampede
from bus.stampede import DeclarationStampede
from bus.app import create_app
from bus.config import OmnibusSettings

class Declaration:
    """An operation the test finishes by hand: ``release`` ends it with a result or an error."""

    def __init__(self) -> None:
        self.calls = 0
        self.done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def __call__(self) -> str:
        self.calls += 1
        return await self.done


async def _owner_and_waiter(call: Callable[[Any], Any], wrapper_type: type = DeclarationStampede) -> tuple[Declaration, asyncio.Task, asyncio.Task]:
    declaration = Declaration()
    wrapper = wrapper_type(declaration)
    owner = asyncio.create_task(call(wrapper))
    await asyncio.sleep(0.01)
    waiter = asyncio.create_task(call(wrapper))
    await asyncio.sleep(0.01)
    return declaration, owner, waiter


async def test_a_waiter_cancelled_meanwhile_leaves_the_owner_its_result() -> None:
    declaration, owner, waiter = await _owner_and_waiter(DeclarationStampede.__call__)
    waiter.cancel()  # a worker told to stop while its tables declare their changelogs
    await asyncio.sleep(0.01)
    declaration.done.set_result("created")
    assert await owner == "created"
    assert waiter.cancelled() and declaration.calls == 1


async def test_without_the_patch_the_owner_crashed_with_invalid_state() -> None:
    """The test above fails on mode's own ``__call__``: the CI failure of 2026-12-01."""
    declaration, owner, waiter = await _owner_and_waiter(StampedeWrapper.__call__, StampedeWrapper)
    waiter.cancel()
    await asyncio.sleep(0.01)
    declaration.done.set_result("created")
    with pytest.raises(asyncio.InvalidStateError):
        await owner


async def test_an_error_reaches_every_waiter() -> None:
    declaration, owner, waiter = await _owner_and_waiter(DeclarationStampede.__call__)
    declaration.done.set_exception(ConnectionError("broker gone"))
    for caller in (owner, waiter):
        with pytest.raises(ConnectionError, match="broker gone"):
            await asyncio.wait_for(caller, 1)  # mode's own __call__: the waiter waits for ever


async def test_waiters_share_one_run_and_the_next_call_runs_again() -> None:
    declaration, owner, waiter = await _owner_and_waiter(DeclarationStampede.__call__)
    declaration.done.set_result("created")
    assert (await owner, await waiter) == ("created", "created")
    assert declaration.calls == 1
    declaration.done = asyncio.get_running_loop().create_future()
    declaration.done.set_result("again")
    assert await DeclarationStampede(declaration)() == "again" and declaration.calls == 2


async def test_the_owner_cancelled_cancels_its_waiters_as_before() -> None:
    _, owner, waiter = await _owner_and_waiter(DeclarationStampede.__call__)
    owner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter


def test_every_app_gives_its_topic_declarations_the_patched_wrapper_once() -> None:
    import faust.topics
    import faust.transport.drivers.aiokafka as transport

    app = create_app("stampede-test", OmnibusSettings())
    assert transport.StampedeWrapper is DeclarationStampede
    assert isinstance(app.topic("stampede-test-topic").maybe_declare, DeclarationStampede)
    declared = faust.topics.Topic.maybe_declare
    stampede.install()
    assert faust.topics.Topic.maybe_declare is declared
    assert StampedeWrapper.__call__ is not DeclarationStampede.__call__  # mode's own wrappers are left alone

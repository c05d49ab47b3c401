"""faust's shared operations (mode's ``StampedeWrapper``) survive a cancelled waiter and hand errors to waiters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from mode.utils.futures import StampedeWrapper

from bus import stampede
from bus.app import create_app
from bus.config import OmnibusSettings

stampede.install()


class Declaration:
    """An operation the test finishes by hand: ``release`` ends it with a result or an error."""

    def __init__(self) -> None:
        self.calls = 0
        self.done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def __call__(self) -> str:
        self.calls += 1
        return await self.done


async def _owner_and_waiter(call: Callable[[StampedeWrapper], Any]) -> tuple[Declaration, asyncio.Task, asyncio.Task]:
    declaration = Declaration()
    wrapper = StampedeWrapper(declaration)
    owner = asyncio.create_task(call(wrapper))
    await asyncio.sleep(0.01)
    waiter = asyncio.create_task(call(wrapper))
    await asyncio.sleep(0.01)
    return declaration, owner, waiter


async def test_a_waiter_cancelled_meanwhile_leaves_the_owner_its_result() -> None:
    declaration, owner, waiter = await _owner_and_waiter(StampedeWrapper.__call__)
    waiter.cancel()  # a worker told to stop while its tables declare their changelogs
    await asyncio.sleep(0.01)
    declaration.done.set_result("created")
    assert await owner == "created"
    assert waiter.cancelled() and declaration.calls == 1


async def test_without_the_patch_the_owner_crashed_with_invalid_state() -> None:
    """The test above fails on mode's own ``__call__``: the CI failure of 2026-12-01."""
    declaration, owner, waiter = await _owner_and_waiter(StampedeWrapper.omnibus_original_call)
    waiter.cancel()
    await asyncio.sleep(0.01)
    declaration.done.set_result("created")
    with pytest.raises(asyncio.InvalidStateError):
        await owner


async def test_an_error_reaches_every_waiter() -> None:
    declaration, owner, waiter = await _owner_and_waiter(StampedeWrapper.__call__)
    declaration.done.set_exception(ConnectionError("broker gone"))
    for caller in (owner, waiter):
        with pytest.raises(ConnectionError, match="broker gone"):
            await asyncio.wait_for(caller, 1)  # mode's own __call__: the waiter waits for ever


async def test_waiters_share_one_run_and_the_next_call_runs_again() -> None:
    declaration, owner, waiter = await _owner_and_waiter(StampedeWrapper.__call__)
    declaration.done.set_result("created")
    assert (await owner, await waiter) == ("created", "created")
    assert declaration.calls == 1
    declaration.done = asyncio.get_running_loop().create_future()
    declaration.done.set_result("again")
    assert await StampedeWrapper(declaration)() == "again" and declaration.calls == 2


async def test_the_owner_cancelled_cancels_its_waiters_as_before() -> None:
    _, owner, waiter = await _owner_and_waiter(StampedeWrapper.__call__)
    owner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter


def test_every_app_installs_it_once() -> None:
    create_app("stampede-test", OmnibusSettings())
    assert StampedeWrapper.__call__ is stampede._call  # noqa: SLF001
    stampede.install()
    assert StampedeWrapper.omnibus_original_call is not stampede._call  # noqa: SLF001

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import pytest

from adapters.base.http import RunningServer
from adapters.call_center.ingress_http import running
from bus.config import OmnibusSettings
from tests.adapters.call_center.support import call_center_settings

StartServer = Callable[..., Awaitable[tuple[RunningServer, aiohttp.ClientSession]]]


@pytest.fixture
async def exit_stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as stack:
        yield stack


@pytest.fixture
def start_server(exit_stack: AsyncExitStack) -> StartServer:
    """Start the real call-center ingress on a free port; stopped (drained, flushed) at teardown."""

    async def start(settings: OmnibusSettings, **overrides: Any) -> tuple[RunningServer, aiohttp.ClientSession]:
        server = await exit_stack.enter_async_context(running(settings, call_center_settings(**overrides)))
        session = await exit_stack.enter_async_context(aiohttp.ClientSession(f"http://127.0.0.1:{server.port}"))
        return server, session

    return start

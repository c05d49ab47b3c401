"""An aiohttp test client for an adapter's app, served the way ``adapters.base.http.serve`` serves it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient, TestServer

from adapters.base.http import RUNNER_OPTIONS


@asynccontextmanager
async def adapter_client(app: web.Application) -> AsyncIterator[TestClient]:
    """A client of ``app`` on a free port, with the adapters' runner options (the adapter decodes bodies)."""
    server = TestServer(app)
    await server.start_server(**RUNNER_OPTIONS)
    async with TestClient(server) as client:
        yield client


async def get_when_served(http: ClientSession, url: str, params: dict[str, str] | None = None,
                          timeout_s: float = 60.0) -> tuple[int, str]:
    """``GET url`` as a well-behaved client does: a 503 (a worker rebalancing or recovering) is retried after
    its ``Retry-After`` seconds until ``timeout_s``; returns (status, body) of the first other answer, or of
    the last 503."""
    deadline = time.monotonic() + timeout_s
    while True:
        async with http.get(url, params=params) as response:
            status, body = response.status, await response.text()
            retry_after = float(response.headers.get("Retry-After", "1"))
        if status != 503 or time.monotonic() + retry_after > deadline:
            return status, body
        await asyncio.sleep(retry_after)

"""An aiohttp test client for an adapter's app, served the way ``adapters.base.http.serve`` serves it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.base.http import RUNNER_OPTIONS


@asynccontextmanager
async def adapter_client(app: web.Application) -> AsyncIterator[TestClient]:
    """A client of ``app`` on a free port, with the adapters' runner options (the adapter decodes bodies)."""
    server = TestServer(app)
    await server.start_server(**RUNNER_OPTIONS)
    async with TestClient(server) as client:
        yield client

"""The demo posts like an SDK: a loaded adapter's 503 is retried after ``Retry-After``, not fatal (#10 case 12)."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from demo import run


async def _serve(statuses: list[int]) -> tuple[TestServer, list[int]]:
    seen: list[int] = []

    async def handle(request: web.Request) -> web.Response:
        status = statuses[min(len(seen), len(statuses) - 1)]
        seen.append(status)
        return web.json_response({"status": status}, status=status, headers={"Retry-After": "0"})

    app = web.Application()
    app.router.add_post("/v1/batch", handle)
    server = TestServer(app)
    await server.start_server()
    return server, seen


async def test_503_then_200_is_retried_until_accepted() -> None:
    server, seen = await _serve([503, 503, 200])
    try:
        async with aiohttp.ClientSession() as http:
            await run._post(http, str(server.make_url("/v1/batch")), {"batch": []})
    finally:
        await server.close()
    assert seen == [503, 503, 200]


async def test_a_4xx_is_not_retried() -> None:
    server, seen = await _serve([400])
    try:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(RuntimeError, match="answered 400"):
                await run._post(http, str(server.make_url("/v1/batch")), {})
    finally:
        await server.close()
    assert seen == [400]


async def test_gives_up_after_the_last_attempt() -> None:
    server, seen = await _serve([503])
    try:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(RuntimeError, match="answered 503"):
                await run._post(http, str(server.make_url("/v1/batch")), {})
    finally:
        await server.close()
    assert len(seen) == run.MAX_ATTEMPTS


def test_retry_after_is_bounded() -> None:
    assert run._retry_after_s("3", 1) == 3.0
    assert run._retry_after_s("3600", 1) == run.MAX_BACKOFF_S
    assert run._retry_after_s("soon", 1) == 0.5
    assert run._retry_after_s(None, 10) == run.MAX_BACKOFF_S

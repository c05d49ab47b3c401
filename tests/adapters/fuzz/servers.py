"""Each adapter's real aiohttp app with a stand-in publisher, served on a free port: from a thread for
synchronous clients (schemathesis, requests), or with its client on one private loop (the fuzzers)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from adapters.base.http import RUNNER_OPTIONS
from adapters.branch.ingress import BranchIngress
from adapters.branch.mapper import CounterMapper
from adapters.call_center.ingress_http import CallCenterIngress
from adapters.call_center.mapper import Topics
from adapters.call_center.state import CallCenterState
from adapters.web.ingress import WebIngress
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from tests.adapters.branch.support import branch_settings
from tests.adapters.call_center.support import call_center_settings
from tests.adapters.web.support import StandInPublisher, web_settings


@dataclass
class Served:
    base_url: str
    publisher: StandInPublisher


@contextmanager
def serve_in_thread(build: Callable[[], web.Application], publisher: StandInPublisher) -> Iterator[Served]:
    """``build()`` runs in the server's thread (state stores such as SQLite belong to one thread)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> tuple[web.AppRunner, int]:
        runner = web.AppRunner(build(), access_log=None, **RUNNER_OPTIONS)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    runner, port = asyncio.run_coroutine_threadsafe(start(), loop).result(30)
    try:
        yield Served(f"http://127.0.0.1:{port}", publisher)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _builders(publisher: StandInPublisher) -> dict[str, Callable[[], web.Application]]:
    """Each HTTP adapter's app with ``publisher``, built where it will run (its thread or loop)."""
    return {
        "web": lambda: WebIngress(web_settings(), publisher, SegmentMapper(web_settings(), TopicSettings())).app(),  # type: ignore[arg-type]
        "call_center": lambda: CallCenterIngress(call_center_settings(), Topics.of(TopicSettings()), publisher,  # type: ignore[arg-type]
                                                 CallCenterState(None)).app(),
        "branch": lambda: BranchIngress(branch_settings(), publisher, CounterMapper(branch_settings(), TopicSettings())).app(),  # type: ignore[arg-type]
    }


@contextmanager
def threaded(name: str) -> Iterator[Served]:
    """``web``, ``call_center`` or ``branch`` with a stand-in publisher, served from a thread."""
    publisher = StandInPublisher()
    with serve_in_thread(_builders(publisher)[name], publisher) as served:
        yield served


@dataclass
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LoopClient:
    """The adapter's app and an HTTP client on one private event loop, driven from synchronous code
    (a Hypothesis test): no thread, so no lock contention between client and server."""

    def __init__(self, build: Callable[[], web.Application], publisher: StandInPublisher) -> None:
        self.publisher = publisher
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(build(), access_log=None, **RUNNER_OPTIONS)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.base_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        self._session = self._loop.run_until_complete(self._open())

    async def _open(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(self.base_url, auto_decompress=False)

    def post(self, path: str, body: bytes, headers: dict[str, str], timeout_s: float = 10) -> Reply:
        async def call() -> Reply:
            async with self._session.post(path, data=body, headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
                return Reply(response.status, await response.read())

        return self._loop.run_until_complete(call())

    def close(self) -> None:
        self._loop.run_until_complete(self._session.close())
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()


@contextmanager
def loop_client(name: str) -> Iterator[LoopClient]:
    """``web``, ``call_center`` or ``branch`` with a stand-in publisher, and a client, on one loop."""
    publisher = StandInPublisher()
    client = LoopClient(_builders(publisher)[name], publisher)
    try:
        yield client
    finally:
        client.close()

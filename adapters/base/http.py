"""HTTP plumbing shared by the HTTP ingresses: body reading, the error policy as responses, health,
OpenAPI, and a server that drains in-flight requests on shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters.base.config import AdapterSettings
from adapters.base.errors import RejectedInput, Unauthorized, Unavailable
from adapters.base.publisher import AdapterPublisher
from adapters.base.runtime import AdapterRuntime, adapter_runtime
from bus.config import OmnibusSettings
from bus.errors import PublishError, RawRecord
from bus.logging import get_logger

RAW_BODY = web.RequestKey("omnibus.raw_body", bytes)
PUBLISHER = web.AppKey("publisher", AdapterPublisher)
log = get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def read_body(request: web.Request, *, max_bytes: int) -> bytes:
    """The request body, kept on the request for dead-lettering.

    aiohttp's server already decodes ``Content-Encoding: gzip|deflate|br`` bodies (``auto_decompress``)
    and holds the decoded size to ``client_max_size``; decoding again here would fail on every gzip body.
    """
    try:
        body = await request.read()
    except web.RequestPayloadError as exc:  # corrupt gzip/deflate: nothing decodable to keep
        raise RejectedInput(f"body cannot be decoded: {exc}".replace("\n", " "), code="bad_encoding") from exc
    request[RAW_BODY] = body
    if len(body) > max_bytes:
        raise RejectedInput(f"body of {len(body)} bytes exceeds the {max_bytes}-byte limit", code="too_large", status=413)
    return body


def _raw_record(request: web.Request) -> RawRecord:
    headers = [("http.path", request.path.encode())]
    content_type = request.headers.get("Content-Type")
    if content_type:
        headers.append(("content-type", content_type.encode()))
    return RawRecord(value=request.get(RAW_BODY), headers=tuple(headers))


def error_response(status: int, reason: str, code: str, **headers: str) -> web.Response:
    return web.json_response({"error": reason, "code": code}, status=status, headers=headers or None)


@web.middleware
async def error_policy(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn the adapter error policy into HTTP answers; dead-letter rejected input."""
    publisher = request.app[PUBLISHER]
    try:
        return await handler(request)
    except RejectedInput as error:
        try:
            await publisher.reject(_raw_record(request), error)
        except PublishError as exc:  # the dead letter itself was not acknowledged: let the sender retry
            return error_response(503, f"cannot record the rejection: {exc}", "unavailable", **{"Retry-After": "5"})
        return error_response(error.status, error.reason, error.code)
    except Unauthorized as error:
        return error_response(401, error.reason, "unauthorized", **{"WWW-Authenticate": 'Basic realm="omnibus"'})
    except Unavailable as error:
        return error_response(503, error.reason, "unavailable", **{"Retry-After": str(error.retry_after_s)})


def adapter_app(publisher: AdapterPublisher, openapi: dict[str, Any], *, client_max_size: int) -> web.Application:
    """An aiohttp application with the error policy, ``/healthz`` and ``/openapi.json``."""
    app = web.Application(middlewares=[error_policy], client_max_size=client_max_size)
    app[PUBLISHER] = publisher

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def spec(_: web.Request) -> web.Response:
        return web.json_response(openapi)

    app.router.add_get("/healthz", health)
    app.router.add_get("/openapi.json", spec)
    return app


@dataclass
class RunningServer:
    runner: web.AppRunner
    port: int

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (their publishes are awaited), then close."""
        await self.runner.cleanup()


async def serve(app: web.Application, host: str, port: int) -> RunningServer:
    runner = web.AppRunner(app, shutdown_timeout=30.0, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server  # aiohttp does not expose the bound port otherwise
    bound = server.sockets[0].getsockname()[1] if server and server.sockets else port
    log.info("adapter listening", host=host, port=bound)
    return RunningServer(runner, bound)


@asynccontextmanager
async def serving(
    name: str,
    settings: OmnibusSettings,
    adapter_settings: AdapterSettings,
    build_app: Callable[[AdapterRuntime], web.Application],
) -> AsyncIterator[RunningServer]:
    """An HTTP adapter on ``adapter_settings.host:port``; on exit it drains in-flight requests, then
    flushes Kafka (leaving ``adapter_runtime``), so nothing it answered 2xx to is lost."""
    async with adapter_runtime(name, settings, adapter_settings) as runtime:
        server = await serve(build_app(runtime), adapter_settings.host, adapter_settings.port)
        try:
            yield server
        finally:
            await server.stop()

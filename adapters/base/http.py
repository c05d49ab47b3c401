"""HTTP plumbing shared by the HTTP ingresses: body reading, the error policy as responses, health,
OpenAPI, and a server that drains in-flight requests on shutdown."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters.base.config import AdapterSettings
from adapters.base.errors import BAD_ENCODING, RejectedInput, Unauthorized, Unavailable, is_outage
from adapters.base.outage_log import KAFKA, REGISTRY
from adapters.base.publisher import AdapterPublisher
from adapters.base.runtime import CHANNEL_TOPICS, AdapterRuntime, adapter_component, adapter_runtime
from bus.config import OmnibusSettings
from bus.errors import MissingTopicError, OmnibusError, RawRecord, SchemaRegistryError
from bus.logging import get_logger, logged_as, ports_logger
from bus.readiness import LIVE_PATH, PROBE_SCHEMA, READY_PATH, probe_body
from bus.refused_credentials import forwarded_for, refusal_log, route_pattern, unauthorized_body
from bus.topics import TopicSpec

RAW_BODY = web.RequestKey("omnibus.raw_body", bytes)
UNDECODED = web.RequestKey("omnibus.undecoded", bool)  # RAW_BODY is still in its Content-Encoding
# What mapping the request's body needs besides the body (the call center's site, the web hall's source, the counter's
# terminal and branch), as dead-letter headers: a handler notes it once it knows it (``note_context``), and every dead
# letter of the request carries it, so that ``omnibus deadletters redrive`` maps a sealed body as the ingress would
# have.
CONTEXT = web.RequestKey("omnibus.dead_letter_context", tuple)
PATH_HEADER = "http.path"  # on every dead letter of an HTTP ingress: the path the body was posted to


def note_context(request: web.Request, headers: Mapping[str, str]) -> None:
    """Add ``headers`` (dead-letter header name: text) to what the request's dead letters carry."""
    request[CONTEXT] = (*request.get(CONTEXT, ()), *((name, value.encode()) for name, value in headers.items()))


def context_headers(request: web.Request) -> tuple[tuple[str, bytes], ...]:
    """The headers ``note_context`` noted for ``request`` (none yet: empty)."""
    return tuple(request.get(CONTEXT, ()))
PUBLISHER = web.AppKey("publisher", AdapterPublisher)
log = get_logger(__name__)
LISTENING_EVENT = "adapter listening"  # the log line with the port bound, the one place that names it for port 0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# aiohttp's own decoding (``auto_decompress``) answers some bad encodings itself (zstd, corrupt deflate:
# a plain 400 that never reaches the error policy, so nothing is dead-lettered) and keeps no bytes of a
# body it failed to decode. The adapters' servers turn it off and decode here instead.
RUNNER_OPTIONS: dict[str, Any] = {"auto_decompress": False}


def _inflate(decoder: Any, data: bytes, limit: int) -> bytes:
    out = decoder.decompress(data, limit + 1)
    if len(out) > limit or decoder.unconsumed_tail:
        raise _too_large(limit)
    if not decoder.eof:
        raise ValueError("the compressed stream is truncated")
    return out


def _unbrotli(data: bytes, limit: int) -> bytes:
    import brotli  # aiohttp's optional Brotli: browsers and SDKs send Content-Encoding: br

    decoder = brotli.Decompressor()
    out = decoder.process(data, output_buffer_limit=limit + 1)
    if len(out) > limit or not decoder.can_accept_more_data():
        raise _too_large(limit)
    if not decoder.is_finished():
        raise ValueError("the compressed stream is truncated")
    return out


def _too_large(limit: int) -> RejectedInput:
    return RejectedInput(f"decoded body exceeds the {limit}-byte limit", code="too_large", status=413)


DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    "gzip": lambda data, limit: _inflate(zlib.decompressobj(16 + zlib.MAX_WBITS), data, limit),
    "x-gzip": lambda data, limit: _inflate(zlib.decompressobj(16 + zlib.MAX_WBITS), data, limit),
    "deflate": lambda data, limit: _inflate(zlib.decompressobj(), data, limit),
    "br": _unbrotli,
}


def decode_body(body: bytes, content_encoding: str, *, max_bytes: int) -> bytes:
    """``body`` decoded by its ``Content-Encoding`` (RFC 9110 §8.4: codings applied in the order listed,
    so undone in reverse), each step held to ``max_bytes`` of output (no decompression bomb).
    Raise ``RejectedInput``: 415 for a coding we do not read, 400 for a body that does not decode."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        decoder = DECODERS.get(coding)
        if decoder is None:
            raise RejectedInput(f"unsupported Content-Encoding {coding[:40]!r}: send gzip, deflate, br or none",
                                code="unsupported_encoding", status=415)
        try:
            body = decoder(body, max_bytes)
        except RejectedInput:
            raise
        except Exception as exc:  # zlib.error, brotli.error, ValueError: the bytes are not that coding
            raise RejectedInput(f"body does not decode as {coding}: {exc}"[:300], code=BAD_ENCODING) from exc
    return body


async def read_body(request: web.Request, *, max_bytes: int) -> bytes:
    """The request body, decoded (``decode_body``) and held to ``max_bytes``.

    The body is kept on the request for a dead letter: decoded, or as received if it does not decode.
    """
    try:
        received = await _read_within(request, request.client_max_size)
    except web.RequestPayloadError as exc:  # a broken chunked stream: nothing complete to keep
        raise RejectedInput(f"body cannot be read: {exc}".replace("\n", " "), code=BAD_ENCODING) from exc
    request[RAW_BODY], request[UNDECODED] = received, True
    if len(received) > request.client_max_size:  # refused, and dead-lettered with its first bytes
        raise RejectedInput(f"body too large: more than the server's {request.client_max_size}-byte limit",
                            code="too_large", status=413)
    body = decode_body(received, request.headers.get("Content-Encoding", ""), max_bytes=max_bytes)
    request[RAW_BODY], request[UNDECODED] = body, False
    if len(body) > max_bytes:
        raise RejectedInput(
            f"body of {len(body)} bytes exceeds the {max_bytes}-byte limit", code="too_large", status=413
        )
    return body


async def _read_within(request: web.Request, limit: int) -> bytes:
    """The body as received, or its first ``limit + 1`` bytes when it is longer (the rest is left unread).

    aiohttp's own ``request.read()`` raises past ``client_max_size`` and drops what it read, so a ``too_large``
    dead letter kept no body at all."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit and (chunk := await request.content.read(min(64 * 1024, limit + 1 - size))):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _raw_record(request: web.Request) -> RawRecord:
    headers = [(PATH_HEADER, request.path.encode()), *context_headers(request)]
    for name in ("Content-Type", "Content-Encoding") if request.get(UNDECODED) else ("Content-Type",):
        if request.headers.get(name):
            headers.append((name.lower(), request.headers[name].encode("utf-8", "replace")))
    body = request.get(RAW_BODY)
    cut = body is not None and bool(request.get(UNDECODED)) and len(body) > request.client_max_size
    return RawRecord(value=body, headers=tuple(headers), value_cut=cut,
                     value_size=request.content_length if cut else None)


def unavailable_response(error: Unavailable) -> web.Response:
    return error_response(503, error.reason, "unavailable", **{"Retry-After": str(error.retry_after_s)})


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
        except Unavailable as unavailable:  # the dead letter itself was not acknowledged: let the sender retry
            return unavailable_response(unavailable)
        return error_response(error.status, error.reason, error.code)
    except Unauthorized as error:
        refused = refusal_log(adapter_component(publisher.name))
        refused.refused(error.cause, route=route_pattern(request), peer=request.remote,
                        forwarded_for=forwarded_for(request))
        challenge = {"WWW-Authenticate": error.challenge} if error.challenge else {}
        return web.json_response(unauthorized_body(error.reason), status=401, headers=challenge or None)
    except Unavailable as error:
        return unavailable_response(error)
    except MissingTopicError as error:  # configuration, no outage; the sender still retries (nothing acknowledged)
        return unavailable_response(publisher.misconfigured(error))
    except OmnibusError as error:  # an outage no adapter code turned into ``Unavailable``: still a 503
        if not is_outage(error):
            raise
        reason = f"{type(error).__name__}: a service the adapter needs did not answer"
        down = REGISTRY if isinstance(error, SchemaRegistryError) else KAFKA
        return unavailable_response(publisher.unavailable(reason, detail=str(error)[:300], down=down))
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return http_error(request, error)


# aiohttp's own refusals, in the adapters' one error shape (new-user finding #9: they were plain text)
HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


def http_error(request: web.Request, error: web.HTTPException) -> web.Response:
    """``error`` (raised by aiohttp: no route, a method not served, a body over ``client_max_size``) as
    ``{"error", "code"}`` with its status. A path that exists only for CORS preflights (``OPTIONS /v1/{tail}``)
    is not an endpoint: a POST there is 404, not 405."""
    if isinstance(error, web.HTTPMethodNotAllowed) and error.allowed_methods <= {"OPTIONS"}:
        error = web.HTTPNotFound()
    if isinstance(error, web.HTTPNotFound):
        return error_response(404, f"no endpoint {request.method} {request.path} (see /openapi.json)", "not_found")
    if isinstance(error, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(error.allowed_methods))
        return error_response(405, f"{request.method} is not allowed on {request.path} (allowed: {allowed})",
                              "method_not_allowed", Allow=allowed)
    return error_response(error.status, error.text or error.reason,
                          HTTP_ERROR_CODES.get(error.status, error.reason.lower().replace(" ", "_")))


# The probes every adapter serves, named as the processors' (``/live``, ``/ready``; ``/healthz`` kept for existing
# probes), with the processors' body (``bus.readiness``). An adapter listens only once its producer is connected,
# so all three answer alike: running and ready. It stays ready during a broker or registry outage, on purpose
# every replica shares that broker, so taking them all out of the Service would turn our
# "503 + Retry-After, nothing acknowledged is lost" (``error_policy``) into the load balancer's connection refusals
# and 502s, which senders do not retry alike; the outage shows in ``omnibus_adapter_unavailable_total``.
HEALTH_PATHS = (LIVE_PATH, READY_PATH, "/healthz")


def unavailable_description(same: str) -> str:
    """Every adapter's OpenAPI description of its 503; ``same`` names what a retry repeats (``messageId``). The
    rule: ``adapters.base.publisher`` (a timed-out send goes on; a retry of its ids waits for it or is a duplicate);
    the sample: ``tests/adapters/web/test_retry_after_timeout.py``."""
    return ("Kafka did not acknowledge in time: retry the same request after Retry-After seconds. The records may "
            "still land (the send timed out but goes on, and Kafka may take it): a retry with the same "
            f"{same} waits for that send or is answered as a duplicate, so nothing is published twice.")
HEALTH_OPENAPI: dict[str, Any] = {
    path: {"get": {"summary": "Liveness and readiness: the adapter listens once its producer is connected.",
                   "responses": {"200": {"description": "Running and ready.",
                                         "content": {"application/json": {"schema": PROBE_SCHEMA}}}}}}
    for path in HEALTH_PATHS
}


def adapter_app(publisher: AdapterPublisher, openapi: dict[str, Any], *, client_max_size: int,
                name: str) -> web.Application:
    """An aiohttp application with the error policy, the probes (``HEALTH_PATHS``, answering the probe body of the
    adapter called ``name``: component ``adapter.web`` for ``web``) and ``/openapi.json``."""
    app = web.Application(middlewares=[error_policy], client_max_size=client_max_size)
    app[PUBLISHER] = publisher
    body = probe_body(adapter_component(name))

    async def health(_: web.Request) -> web.Response:
        return web.json_response(body)

    async def spec(_: web.Request) -> web.Response:
        return web.json_response(openapi)

    for path in HEALTH_PATHS:
        app.router.add_get(path, health)
    app.router.add_get("/openapi.json", spec)
    return app


@dataclass
class RunningServer:
    runner: web.AppRunner
    port: int

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (their publishes are awaited), then close."""
        await self.runner.cleanup()


async def serve(app: web.Application, host: str, port: int, *, reuse_port: bool = False) -> RunningServer:
    """``app`` listening on ``host:port``; ``reuse_port``: ``SO_REUSEPORT``, so several worker processes
    share the port (``adapters.base.workers``). The line with the port bound (``LISTENING_EVENT``) and those of the
    requests it serves carry the component of the context it is called in (``bus.logging.logged_as``)."""
    runner = web.AppRunner(app, shutdown_timeout=30.0, access_log=None, **RUNNER_OPTIONS)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
    await site.start()
    addresses = runner.addresses  # (host, port, ...) per bound socket: the real port when ``port`` is 0
    bound = addresses[0][1] if addresses else port
    ports_logger().info(LISTENING_EVENT, host=host, port=bound)
    return RunningServer(runner, bound)


@asynccontextmanager
async def serving(
    name: str,
    settings: OmnibusSettings,
    adapter_settings: AdapterSettings,
    build_app: Callable[[AdapterRuntime], web.Application],
    *,
    reuse_port: bool = False,
    publishes: Sequence[TopicSpec] = CHANNEL_TOPICS,
) -> AsyncIterator[RunningServer]:
    """An HTTP adapter on ``adapter_settings.host:port``; on exit it drains in-flight requests, then
    flushes Kafka (leaving ``adapter_runtime``), so nothing it answered 2xx to is lost. Its dedupe file is the one of
    the Kafka cluster and topic prefix it publishes to (``adapters.base.dedupe_target``). ``publishes``:
    the topics it writes to, checked at start (``adapter_runtime``)."""
    async with adapter_runtime(name, settings, adapter_settings, per_target_dedupe=True, answers_senders=True,
                               publishes=publishes) as runtime:
        with logged_as(adapter_component(name)):  # its connections are handled in this context: their lines name it
            server = await serve(build_app(runtime), adapter_settings.host, adapter_settings.port,
                                 reuse_port=reuse_port)
        try:
            yield server
        finally:
            with logged_as(adapter_component(name)):
                await server.stop()

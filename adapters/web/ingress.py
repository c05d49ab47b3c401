"""The web hall's HTTP ingress: the Segment HTTP Tracking API, so the portal's analytics SDKs feed us.

``POST /v1/{identify,track,page,screen,group,alias}`` (and the analytics.js short paths ``/v1/{i,t,p,s,g,a}``)
take one message; ``POST /v1/batch`` takes ``{"batch": [...]}``. Bodies are JSON sent as
``application/json`` or ``text/plain`` (what browsers send to avoid a CORS preflight), optionally
gzip-encoded. The write key comes from Basic auth (key as user name, empty password) or ``writeKey`` in
the body. 200 means Kafka acknowledged every event of the request; see ``errors`` for everything else.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import time
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from adapters.base import wire
from adapters.base.errors import RejectedInput, Unauthorized
from adapters.base.http import PATH_HEADER, RunningServer, adapter_app, note_context, read_body, serving
from adapters.base.identifiers import dropped_fields
from adapters.base.ingest import Item, ingest, partly_rejected
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from adapters.web import errors, fields
from adapters.web.config import MAX_BATCH_BYTES, MAX_EVENT_BYTES, WebSettings
from adapters.web.mapper import CALL_TYPES, SegmentMapper
from adapters.web.openapi import openapi
from adapters.web.reissue import SOURCE_HEADER
from bus.config import OmnibusSettings
from bus.errors import RawRecord
from bus.refused_credentials import BASIC_CHALLENGE, CredentialRefusal

NAME = "web"  # the adapter's name: component adapter.web in metrics, dead letters and probes
JSON_MEDIA_TYPES = frozenset({"", "application/json", "text/plain"})


class WebIngress:
    def __init__(self, settings: WebSettings, publisher: AdapterPublisher, mapper: SegmentMapper) -> None:
        if not settings.write_keys:
            raise errors.WebConfigError("the web-hall adapter needs at least one write key (write_keys)")
        self._settings = settings
        self._publisher = publisher
        self._mapper = mapper

    def app(self) -> web.Application:
        # Above 1.5 x the limit aiohttp refuses the body itself (413, not dead-lettered): a dead letter
        # must stay under Kafka's 1 MB message size or recording the rejection would fail forever.
        document = openapi(self._mapper.identifiers)
        app = adapter_app(self._publisher, document, client_max_size=MAX_BATCH_BYTES * 3 // 2, name=NAME)
        for path in CALL_TYPES:
            app.router.add_post(f"/v1/{path}", self._single)
        app.router.add_post("/v1/batch", self._batch)
        app.router.add_route("OPTIONS", "/v1/{tail:.*}", self._preflight)
        app.on_response_prepare.append(self._cors_headers)
        return app

    # -- handlers ----------------------------------------------------------------------------------

    async def _single(self, request: web.Request) -> web.Response:
        call = request.path.rsplit("/", 1)[-1]
        started, received_at = time.perf_counter(), datetime.now(UTC)
        source, payload, utf8 = await self._read(request, max_bytes=MAX_EVENT_BYTES)
        return await self._ingest(request, source, [(call, payload)], started, received_at, single=True, utf8=utf8)

    async def _batch(self, request: web.Request) -> web.Response:
        started, received_at = time.perf_counter(), datetime.now(UTC)
        source, payload, utf8 = await self._read(request, max_bytes=MAX_BATCH_BYTES)
        batch = payload.get("batch")
        if not isinstance(batch, list) or not batch:
            raise errors.bad_shape("'batch' must be a non-empty array of messages")
        shared: dict[str, Any] = {
            field: payload[field] for field in ("context", "integrations") if isinstance(payload.get(field), dict)}
        if isinstance(payload.get("sentAt"), str):  # the batch's sentAt stands for messages without their own
            shared["sentAt"] = payload["sentAt"]
        messages: list[tuple[str | None, Any]] = (
            [(None, {**shared, **m} if isinstance(m, dict) else m) for m in batch] if shared
            else [(None, m) for m in batch])
        return await self._ingest(request, source, messages, started, received_at, single=False, utf8=utf8)

    async def _preflight(self, request: web.Request) -> web.Response:
        asked = request.headers.get("Access-Control-Request-Headers", "Content-Type, Authorization, Content-Encoding")
        return web.Response(status=204, headers={
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": asked,
            "Access-Control-Max-Age": "86400",
        })

    async def _cors_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get("Origin")
        allowed = self._settings.cors_origins
        if not origin or ("*" not in allowed and origin not in allowed):
            return
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        if "*" not in allowed:
            response.headers["Vary"] = "Origin"

    # -- reading and authenticating ------------------------------------------------------------------

    async def _read(self, request: web.Request, *, max_bytes: int) -> tuple[str, dict[str, Any], bool]:
        """The source name, the JSON object of the body, and whether its strings still need the UTF-8
        check (``wire.may_hold_surrogates``). Unauthenticated input is never dead-lettered."""
        source = self._basic_auth_source(request)
        if source is not None:
            note_context(request, {SOURCE_HEADER: source})
        media_type = request.content_type if request.headers.get("Content-Type") else ""
        if source is None:
            try:
                body = await read_body(request, max_bytes=max_bytes)
                payload = _parse(body, media_type)
            except RejectedInput as error:
                reason = f"missing write key: no Basic auth, and the body cannot be read: {error.reason}"
                raise Unauthorized(reason, CredentialRefusal.MISSING, challenge=BASIC_CHALLENGE) from error
            if not payload.get("writeKey"):
                raise Unauthorized("missing write key: send Basic auth with the write key as user name, or writeKey "
                                   "in the body", CredentialRefusal.MISSING, challenge=BASIC_CHALLENGE)
            source = self._settings.source_for_key(str(payload["writeKey"]))
            if source is None:
                raise Unauthorized("unknown write key", CredentialRefusal.UNKNOWN, challenge=BASIC_CHALLENGE)
            note_context(request, {SOURCE_HEADER: source})
            return source, payload, wire.may_hold_surrogates(body)
        body = await read_body(request, max_bytes=max_bytes)
        return source, _parse(body, media_type), wire.may_hold_surrogates(body)

    def _basic_auth_source(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization")
        if not header:
            return None
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            raise Unauthorized("malformed Authorization header: only Basic auth with the write key as user name is "
                               "supported", CredentialRefusal.MALFORMED, challenge=BASIC_CHALLENGE)
        try:
            user = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise Unauthorized("malformed Basic auth header", CredentialRefusal.MALFORMED,
                               challenge=BASIC_CHALLENGE) from exc
        source = self._settings.source_for_key(user)
        if source is None:
            raise Unauthorized("unknown write key", CredentialRefusal.UNKNOWN, challenge=BASIC_CHALLENGE)
        return source

    # -- mapping, publishing, answering ------------------------------------------------------------

    async def _ingest(
        self, request: web.Request, source: str, messages: list[tuple[str | None, Any]],
        started: float, received_at: datetime, *, single: bool, utf8: bool = True,
    ) -> web.Response:
        # a dead letter's bytes are serialised only for a message that is refused; the mapper digests each message's
        # content: the same messageId with another event is refused (id_conflict) where this process published the
        # first, and has event ids of its own wherever it is published (F1)
        items = [Item((call, message), functools.partial(_raw_message, request, source, index, message))
                 for index, (call, message) in enumerate(messages)]

        def to_record(_: int, native: tuple[str | None, Any]) -> MappedRecord:
            call, message = native
            bound = wire.check_tree(message, "the message", utf8=utf8)  # per message: a bad one costs only itself
            # a single call's body was already held to the per-event limit; a batch's message is
            # serialised to measure it only when its upper bound could exceed the limit
            if not single and bound > MAX_EVENT_BYTES:
                size = len(json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode())
                if size > MAX_EVENT_BYTES:
                    raise errors.too_large(size, MAX_EVENT_BYTES)
            return self._mapper(message, source=source, call=call, received_at=received_at)

        outcome = await ingest(self._publisher, items, to_record, received_at=started,
                               retry_after_s=self._settings.retry_after_s)
        # identifiers left off accepted messages (an e-mail that is not one): listed, never their values
        #; Segment's SDKs read only the status, so the extra field costs them nothing
        # as are traits left off (a birth date that is none)
        dropped = dropped_fields(outcome.accepted, messageId=[_message_id(message) for _, message in messages])
        # re-sends among the accepted messages, published nothing: counted as the counter's answer counts them
        # (the answer did not say a message was a duplicate); left out at 0, so the usual answer stays
        # Segment's own ``{"success": true}``
        duplicates = {"duplicates": outcome.duplicates} if outcome.duplicates else {}
        if not outcome.refused:
            return web.json_response({"success": True, **duplicates, **dropped})
        # by index, as ``rejected`` lists them: one messageId may be both, its first event published and another
        # event under it refused
        accepted = [{"index": index, "messageId": _message_id(messages[index][1])} for index, _ in outcome.accepted]
        bad = [(index, messages[index][1], error) for index, error in outcome.refused]
        return _rejection(accepted, bad, {"duplicates": outcome.duplicates, **dropped}, single=single,
                          strict=self._settings.strict_batches)


def _raw_message(request: web.Request, source: str, index: int, message: Any) -> RawRecord:
    """A dead letter's value: the message's own JSON (what UTF-8 cannot carry escaped)."""
    return RawRecord(
        value=json.dumps(message, ensure_ascii=False, default=repr).encode("utf-8", "backslashreplace"),
        headers=((PATH_HEADER, request.path.encode()), (SOURCE_HEADER, source.encode()),
                 ("segment.batch_index", str(index).encode())),
    )


def _parse(body: bytes, media_type: str) -> dict[str, Any]:
    if media_type not in JSON_MEDIA_TYPES:
        raise errors.unsupported_media_type(media_type)
    payload = wire.parse(body)  # each message's tree is checked with the message
    if not isinstance(payload, dict):
        raise errors.bad_shape("body must be a JSON object")
    return payload


def _message_id(message: Any) -> str | None:
    """The sender's messageId as the answer may echo it: as text (the response schema says string), a whole number
    as the text it is read as (``fields.whole_text``)."""
    return fields.whole_text(message.get("messageId")) if isinstance(message, dict) else None


def _message_label(index: int, message: Any) -> str:
    message_id = _message_id(message)
    return f"message {index}" + (f" (messageId {message_id})" if message_id else "")


def _rejection(
    accepted: list[dict[str, Any]], bad: list[tuple[int, Any, RejectedInput]], extra: dict[str, Any], *,
    single: bool, strict: bool,
) -> web.Response:
    """A single call: the refusal's own status. A batch: 200 with the refusals listed, as Segment answers
    (its SDKs drop a whole batch answered 4xx), or 400 when ``strict_batches`` is set. ``accepted`` and ``rejected``
    name each message by its index in the request and its messageId; ``extra`` (duplicates, dropped fields) is
    added as it is."""
    rejected = [{"index": index, "messageId": _message_id(message), "reason": error.reason, "code": error.code}
                for index, message, error in bad]
    if single:
        reason, code, status = bad[0][2].reason, bad[0][2].code, bad[0][2].status
    else:
        details = "; ".join(f"{_message_label(i, m)}: {e.reason}" for i, m, e in bad)
        reason = partly_rejected(len(bad), len(accepted), "messages", details)
        code, status = "invalid_messages", 400 if strict else 200
    body = {"success": status == 200, "error": reason, "message": reason, "code": code, "accepted": accepted,
            "rejected": rejected}
    return web.json_response({**body, **extra}, status=status)


def running_web_adapter(
    settings: OmnibusSettings, web_settings: WebSettings, *, reuse_port: bool = False
) -> AbstractAsyncContextManager[RunningServer]:
    """The web hall serving on its port (``reuse_port``: shared with other worker processes); on exit it
    drains in-flight requests, then flushes Kafka."""
    return serving(NAME, settings, web_settings, lambda runtime: WebIngress(
        web_settings, runtime.publisher, SegmentMapper(web_settings, settings.topics, settings.identifiers)).app(),
        reuse_port=reuse_port)

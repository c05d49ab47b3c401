"""The call-center HTTP ingress: Connect CTRs, Asterisk CDR lines and TaskRouter callbacks.

Every answer in the 2xx range is sent only after Kafka acknowledged the request's events (or, for a
TaskRouter callback that only advances a task, after the fact was committed to the state file).
"""

from __future__ import annotations

import base64
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from multidict import MultiDict

from adapters.base.errors import Unauthorized
from adapters.base.http import (
    PATH_HEADER,
    RunningServer,
    adapter_app,
    context_headers,
    error_response,
    note_context,
    read_body,
    serving,
)
from adapters.base.identifiers import dropped_fields
from adapters.base.ingest import Item, ingest, map_item
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from adapters.base.runtime import CHANNEL_TOPICS, AdapterRuntime
from adapters.call_center import mapper_asterisk, mapper_ctr, mapper_taskrouter
from adapters.call_center.config import CallCenterSettings
from adapters.call_center.mapper import MapContext, NativeItem, Topics
from adapters.call_center.openapi import OPENAPI
from adapters.call_center.state import CallCenterState
from bus.config import OmnibusSettings
from bus.errors import RawRecord
from bus.identifiers import IdentifierSettings
from bus.logging import get_logger
from bus.refused_credentials import BASIC_CHALLENGE, BEARER_CHALLENGE, CredentialRefusal
from bus.topics import BUSINESS_EVENTS

NAME = "call_center"  # the adapter's name: component adapter.call_center in metrics, dead letters and probes
SITE_HEADER = "call_center.site"  # a dead letter's site (``adapters.base.http.note_context``): how it is re-mapped
log = get_logger(__name__)
# The 401's WWW-Authenticate per route: a key route takes Bearer or Basic (X-Amz-Firehose-Access-Key has no scheme of
# its own). A TaskRouter callback is signed (X-Twilio-Signature), a scheme with no standard challenge and no client
# that would read one: its 401 carries none, and its error says what to fix.
ACCESS_KEY_CHALLENGE = f"{BEARER_CHALLENGE}, {BASIC_CHALLENGE}"
TASKROUTER_CHALLENGE = None
TIMELINE_EVENTS = frozenset({"task.created", "task-queue.entered", "task-queue.moved", "reservation.accepted",
                             "task.wrapup"})


@dataclass(frozen=True)
class BatchOutcome:
    accepted: int
    published_events: int
    duplicates: int
    rejected: list[dict[str, Any]]
    dropped: dict[str, Any] = field(default_factory=dict)  # adapters.base.identifiers.dropped_fields


class CallCenterIngress:
    def __init__(
        self, settings: CallCenterSettings, topics: Topics, publisher: AdapterPublisher, state: CallCenterState,
        identifiers: IdentifierSettings | None = None,
    ) -> None:
        self._settings = settings
        self._publisher = publisher
        self._state = state
        self._contexts = {
            name: MapContext(name, site, topics, settings, identifiers) for name, site in settings.sites.items()
        }

    def app(self) -> web.Application:
        app = adapter_app(self._publisher, OPENAPI, client_max_size=self._settings.max_body_bytes + 1024,
                          name=NAME)
        app.router.add_post("/v1/connect/ctr", self.connect_ctr)
        app.router.add_post("/v1/asterisk/cdr", self.asterisk_cdr)
        app.router.add_post("/v1/twilio/taskrouter", self.twilio_taskrouter)
        return app

    # -- Amazon Connect -----------------------------------------------------------------------------

    async def connect_ctr(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        ctx = self._context_by_key(request)
        items, firehose = mapper_ctr.split_body(await read_body(request, max_bytes=self._settings.max_body_bytes))
        calls: dict[int, Any] = {}
        latest: dict[str, Any] = {}  # contact id -> the latest version taken so far in this batch

        def to_record(index: int, ctr: dict[str, Any]) -> MappedRecord | None:
            call = mapper_ctr.ctr_call(ctr, ctx)
            # A version earlier in the batch counts as published: the versions go out in their own order.
            published = latest.get(call.contact_id) or self._state.latest_version(call.contact_id)
            if published is not None and published >= call.updated_at:  # type: ignore[operator]
                return None  # an older or equal version than one already published
            record = mapper_ctr.call_events(mapper_ctr.superseding(call, published), ctx)
            calls[index], latest[call.contact_id] = call, call.updated_at
            return record

        contacts = sorted({str(mapper_ctr.contact_key(item.record)) for item in items if isinstance(item.record, dict)})
        async with AsyncExitStack() as stack:
            for contact in contacts:  # sorted: no deadlock between overlapping batches
                await stack.enter_async_context(self._state.hold(contact))
            outcome = await self._accept(request, items, to_record, started)
            for call in calls.values():
                self._state.published(call.contact_id, call.updated_at)
        if isinstance(outcome, web.Response):
            return outcome
        if firehose is not None:  # the answer Firehose's HTTP endpoint delivery expects
            return web.json_response({"requestId": firehose.request_id, "timestamp": int(time.time() * 1000)})
        return _summary(outcome)

    # -- Asterisk -------------------------------------------------------------------------------------

    async def asterisk_cdr(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        ctx = self._context_by_key(request)
        body = await read_body(request, max_bytes=self._settings.max_body_bytes)
        items = mapper_asterisk.split_lines(body, ctx.settings.asterisk_columns)  # the site's: how its CDRs are read
        outcome = await self._accept(request, items, lambda _, line: mapper_asterisk.map_cdr(line, ctx), started)
        return outcome if isinstance(outcome, web.Response) else _summary(outcome)

    # -- Twilio TaskRouter ----------------------------------------------------------------------------

    async def twilio_taskrouter(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        body = await read_body(request, max_bytes=self._settings.max_body_bytes)
        # Every value of a repeated name is signed (Twilio sorts them), so the check needs them all; the
        # mapper reads the first.
        fields = MultiDict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
        ctx = self._verified_twilio_context(request, fields)
        form = {name: fields.getone(name) for name in fields}
        max_age_s = self._settings.twilio_max_age_s
        event_sid = form.get("Sid", "")
        if not max_age_s or not event_sid:
            return await self._taskrouter_event(form, ctx, started)
        async with self._state.hold(f"event:{event_sid}"):  # two copies racing: one passes, the other is a replay
            if self._state.twilio_event_seen(event_sid):
                raise Unauthorized(f"replayed TaskRouter callback: event {event_sid} was already accepted",
                                   CredentialRefusal.REPLAYED, challenge=TASKROUTER_CHALLENGE)
            answer = await self._taskrouter_event(form, ctx, started)
            self._state.twilio_event_accepted(event_sid, time.time(), keep_s=2 * max_age_s)
        return answer

    async def _taskrouter_event(self, form: dict[str, str], ctx: MapContext, started: float) -> web.Response:
        kind = form.get("EventType", "")
        if kind not in TERMINAL_OR_TIMELINE:
            return web.Response(status=204)  # worker and workflow events say nothing about a call
        sid = mapper_taskrouter.task_sid(form)
        async with self._state.hold(sid):
            timeline = self._state.timeline(sid)
            if kind in TIMELINE_EVENTS:
                updated = mapper_taskrouter.record(timeline, form)  # raises only RejectedInput
                if updated != timeline:
                    self._state.save_timeline(sid, updated)
                return web.Response(status=204)
            record = map_item(lambda native: mapper_taskrouter.map_task(native, timeline, ctx), form)
            await self._publisher.submit([record], received_at=started)  # type: ignore[list-item]
            if record is not None and record.dropped_parts:  # the call went without them
                raw = RawRecord(value=urlencode(form).encode(), headers=(
                    (PATH_HEADER, b"/v1/twilio/taskrouter"), (SITE_HEADER, ctx.site_name.encode())))
                for dropped in record.dropped_parts:
                    await self._publisher.reject_part(raw, dropped)
            self._state.forget_timeline(sid)
        return web.Response(status=204)

    # -- shared ---------------------------------------------------------------------------------------

    async def _accept(
        self,
        request: web.Request,
        items: Sequence[NativeItem],
        to_record: Callable[[int, Any], MappedRecord | None],
        started: float,
    ) -> BatchOutcome | web.Response:
        """Publish the good records of a batch, dead-letter the bad ones one by one, answer for both."""
        if len(items) == 1 and items[0].error is not None:
            raise items[0].error  # a lone record: the error policy answers and dead-letters the body
        chunk = [Item(item.record, _raw(request, item), item.error) for item in items]
        outcome = await ingest(self._publisher, chunk, to_record, received_at=started,
                               retry_after_s=self._settings.retry_after_s)
        rejected = [{"index": index, "reason": error.reason, "code": error.code} for index, error in outcome.refused]
        if outcome.refused and not outcome.accepted and not outcome.skipped:
            first = outcome.refused[0][1]
            if len(items) == 1:
                return error_response(first.status, first.reason, first.code)
            return web.json_response({"error": f"every record was refused; first: {first.reason}",
                                      "code": first.code, "rejected": rejected}, status=400)
        stale = len(outcome.skipped)
        self._publisher.count_duplicates(stale)  # answered as duplicates below: counted as such
        return BatchOutcome(
            accepted=len(outcome.accepted) + stale,
            published_events=outcome.published_events,
            duplicates=outcome.duplicates + stale,
            rejected=rejected,
            dropped=dropped_fields(outcome.accepted),  # never the values
        )

    def _context_by_key(self, request: web.Request) -> MapContext:
        key = _access_key(request)
        if key is None:
            raise Unauthorized("missing access key: send X-Amz-Firehose-Access-Key, Authorization: Bearer <key> or "
                               "Basic auth with the key as user name", CredentialRefusal.MISSING,
                               challenge=ACCESS_KEY_CHALLENGE)
        site = self._settings.site_for_key(key)
        if site is None:
            raise Unauthorized("unknown access key", CredentialRefusal.UNKNOWN, challenge=ACCESS_KEY_CHALLENGE)
        note_context(request, {SITE_HEADER: site})
        return self._contexts[site]

    def _verified_twilio_context(self, request: web.Request, form: MultiDict[str]) -> MapContext:
        site = self._settings.site_for_workspace(form.get("WorkspaceSid", ""))
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            raise Unauthorized("missing X-Twilio-Signature", CredentialRefusal.MISSING, challenge=TASKROUTER_CHALLENGE)
        if site is None:
            raise Unauthorized("unknown TaskRouter workspace (WorkspaceSid)", CredentialRefusal.UNKNOWN,
                               challenge=TASKROUTER_CHALLENGE)
        from twilio.request_validator import (
            RequestValidator,  # only sites using TaskRouter need twilio
        )

        token = self._settings.sites[site].twilio_auth_token
        base = self._settings.public_base_url
        url = f"{base.rstrip('/')}{request.path_qs}" if base else str(request.url)
        if token is None or not RequestValidator(token.get_secret_value()).validate(url, form, signature):
            # behind a proxy, Twilio signed another URL than this one: OMNIBUS_ADAPTER_CALL_CENTER__PUBLIC_BASE_URL
            checked = url.split("?", 1)[0]
            raise Unauthorized(f"X-Twilio-Signature does not match this request, checked against {checked} (behind "
                               "a proxy: OMNIBUS_ADAPTER_CALL_CENTER__PUBLIC_BASE_URL) with the site's auth token",
                               CredentialRefusal.BAD_SIGNATURE, challenge=TASKROUTER_CHALLENGE)
        note_context(request, {SITE_HEADER: site})
        max_age_s = self._settings.twilio_max_age_s
        if max_age_s:
            age_s = _callback_age_s(form, time.time())
            if age_s is None or abs(age_s) > max_age_s:
                raise Unauthorized(f"TaskRouter callback Timestamp is missing or more than {max_age_s:.0f} s from "
                                   "our clock (a replayed or re-dated request)", CredentialRefusal.STALE,
                                   challenge=TASKROUTER_CHALLENGE)
        return self._contexts[site]


TERMINAL_OR_TIMELINE = TIMELINE_EVENTS | mapper_taskrouter.TERMINAL_EVENTS


def _callback_age_s(form: MultiDict[str], now_s: float) -> float | None:
    """Seconds since a TaskRouter callback's signed ``TimestampMs`` (or ``Timestamp``, Unix seconds); None if absent
    or not a number (negative: stamped in the future)."""
    try:
        age_s = now_s - (int(form["TimestampMs"]) / 1000 if form.get("TimestampMs") else float(form["Timestamp"]))
    except (KeyError, ValueError, OverflowError):
        return None
    return age_s if math.isfinite(age_s) else None


def _access_key(request: web.Request) -> str | None:
    """The access key the request carries (``X-Amz-Firehose-Access-Key``, ``Authorization: Bearer <key>`` or Basic
    auth with the key as user name); None when it carries no credentials. Raise ``Unauthorized`` (``malformed``) for
    an ``Authorization`` header of another scheme, or one with an empty or undecodable key."""
    firehose = request.headers.get("X-Amz-Firehose-Access-Key")
    if firehose:
        return firehose
    header = request.headers.get("Authorization", "").strip()
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    key: str | None = None
    if scheme.lower() == "bearer":
        key = value.strip()
    elif scheme.lower() == "basic":
        try:
            key = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
        except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError
            key = None
    if not key:
        raise Unauthorized("malformed Authorization header: it must be 'Bearer <access key>' or Basic auth with the "
                           "key as user name", CredentialRefusal.MALFORMED, challenge=ACCESS_KEY_CHALLENGE)
    return key


def _raw(request: web.Request, item: NativeItem) -> RawRecord:
    headers = [(PATH_HEADER, request.path.encode()), *context_headers(request)]
    if request.headers.get("Content-Type"):
        headers.append(("content-type", request.headers["Content-Type"].encode()))
    return RawRecord(value=item.raw, headers=tuple(headers), line=item.line)


def _summary(outcome: BatchOutcome) -> web.Response:
    return web.json_response({
        "accepted": outcome.accepted, "published_events": outcome.published_events,
        "duplicates": outcome.duplicates, "rejected": outcome.rejected,
        **outcome.dropped,
    })


@asynccontextmanager
async def running(settings: OmnibusSettings, adapter: CallCenterSettings) -> AsyncIterator[RunningServer]:
    """The ingress serving on ``adapter.host:port``; on exit, drain requests then flush the producer. The state file
    (``state_path``) is opened once the runtime found every topic it publishes to: a missing one leaves none behind."""
    states: list[CallCenterState] = []

    def ingress(runtime: AdapterRuntime) -> web.Application:
        states.append(CallCenterState(adapter.state_path))
        return CallCenterIngress(adapter, Topics.of(settings.topics), runtime.publisher, states[0],
                                 settings.identifiers).app()

    try:
        # a card status a call recorded goes to business.events.v1 (CardStatusChanged)
        async with serving(NAME, settings, adapter, ingress, publishes=(*CHANNEL_TOPICS, BUSINESS_EVENTS)) as server:
            yield server
    finally:
        for state in states:
            state.close()

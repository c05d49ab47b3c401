"""The branch counters' HTTP ingress: ``POST /v1/counter/events``, a batch upload from one terminal.

Body: ``{"terminal_id": "...", "branch_id": "...", "events": [{event_id, kind, occurred_at, ...}]}``
with ``Authorization: Bearer <that terminal's token>``. 200 means Kafka acknowledged every event of the
upload (already-published event ids are skipped, so a re-upload is harmless); see ``errors``.
"""

from __future__ import annotations

import hashlib
import json
import time
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from adapters.base import wire
from adapters.base.closed_fields import unknown_fields
from adapters.base.errors import RejectedInput, Unauthorized, combined
from adapters.base.http import PATH_HEADER, RunningServer, adapter_app, read_body, serving
from adapters.base.identifiers import dropped_fields
from adapters.base.ingest import Item, ingest, partly_rejected
from adapters.base.publisher import AdapterPublisher
from adapters.base.runtime import AdapterRuntime
from adapters.base.whole_ids import whole_text
from adapters.branch import errors
from adapters.branch.config import MAX_BODY_BYTES, MAX_EVENTS_PER_BATCH, BranchSettings
from adapters.branch.fields import required_text
from adapters.branch.mapper import CounterMapper
from adapters.branch.openapi import UPLOAD, openapi
from bus.config import OmnibusSettings
from bus.errors import RawRecord
from bus.refused_credentials import BEARER_CHALLENGE, CredentialRefusal

NAME = "branch"  # the adapter's name: component adapter.branch in metrics, dead letters and probes
UPLOAD_PATH = "/v1/counter/events"
TERMINAL_HEADER, BRANCH_HEADER = "branch.terminal_id", "branch.branch_id"  # on an event's dead letter


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class BranchIngress:
    def __init__(self, settings: BranchSettings, publisher: AdapterPublisher, mapper: CounterMapper) -> None:
        if not settings.terminal_tokens:
            raise errors.BranchConfigError("the branch adapter needs at least one terminal token (terminal_tokens)")
        self._settings = settings
        self._publisher = publisher
        self._mapper = mapper
        # Looked up by digest, so the lookup's timing says nothing about the tokens themselves.
        self._terminals = {
            _digest(token.get_secret_value()): terminal for terminal, token in settings.terminal_tokens.items()
        }

    def app(self) -> web.Application:
        document = openapi(self._mapper.identifiers)
        app = adapter_app(self._publisher, document, client_max_size=MAX_BODY_BYTES, name=NAME)
        app.router.add_post(UPLOAD_PATH, self._upload)
        return app

    async def _upload(self, request: web.Request) -> web.Response:
        started, received_at = time.perf_counter(), datetime.now(UTC)
        terminal = self._authenticate(request)
        upload = _parse(await read_body(request, max_bytes=MAX_BODY_BYTES))
        terminal_id = required_text(upload, "terminal_id")
        if terminal_id != terminal:
            raise Unauthorized(f"this token does not belong to terminal {terminal_id!r}",
                               CredentialRefusal.WRONG_TERMINAL, challenge=BEARER_CHALLENGE)
        branch_id = required_text(upload, "branch_id")
        stands_in = self._settings.terminal_branches.get(terminal_id)
        if stands_in is not None and branch_id != stands_in:
            raise Unauthorized(f"terminal {terminal_id!r} stands in branch {stands_in!r}, not {branch_id!r} "
                               "(OMNIBUS_ADAPTER_BRANCH__TERMINAL_BRANCHES)", CredentialRefusal.WRONG_TERMINAL,
                               challenge=BEARER_CHALLENGE)
        events = upload.get("events")
        if not isinstance(events, list) or not events:
            raise errors.bad_upload("'events' must be a non-empty array")
        if len(events) > MAX_EVENTS_PER_BATCH:
            raise errors.bad_upload(f"{len(events)} events exceed the {MAX_EVENTS_PER_BATCH}-event limit per upload")

        items = [Item(event, _raw_event(request, terminal_id, branch_id, index, event))
                 for index, event in enumerate(events)]
        outcome = await ingest(
            self._publisher, items,
            lambda _, event: self._mapper(event, terminal_id=terminal_id, branch_id=branch_id, received_at=received_at),
            received_at=started, retry_after_s=self._settings.retry_after_s,
        )
        # dedupe ids are "<terminal>:<event_id>"
        accepted = [record.dedupe_id[len(terminal_id) + 1 :] for _, record in outcome.accepted]
        # identifiers and traits left off accepted events (a mistyped NIR, a birth date that is none): listed, never
        # their values
        dropped = dropped_fields(outcome.accepted, event_id=[_event_id(event) for event in events])
        if not outcome.refused:
            body: dict[str, Any] = {"success": True, "accepted": len(accepted), "duplicates": outcome.duplicates}
            return web.json_response({**body, **dropped})
        return _rejection(accepted, [(index, events[index], error) for index, error in outcome.refused], dropped)

    def _authenticate(self, request: web.Request) -> str:
        scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
        if not scheme:
            raise Unauthorized("missing bearer token: send Authorization: Bearer <terminal token>",
                               CredentialRefusal.MISSING, challenge=BEARER_CHALLENGE)
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("malformed Authorization header: it must be 'Bearer <terminal token>' (no other "
                               "scheme is accepted)", CredentialRefusal.MALFORMED, challenge=BEARER_CHALLENGE)
        terminal = self._terminals.get(_digest(token.strip()))
        if terminal is None:
            raise Unauthorized("unknown terminal token", CredentialRefusal.UNKNOWN, challenge=BEARER_CHALLENGE)
        return terminal


def _raw_event(request: web.Request, terminal_id: str, branch_id: str, index: int, event: Any) -> RawRecord:
    """A dead letter's value: the event's own JSON; its terminal and branch, what re-mapping it needs
    (``adapters.branch.redrive``)."""
    return RawRecord(
        value=json.dumps(event, ensure_ascii=False, default=repr).encode("utf-8", "backslashreplace"),
        key=terminal_id.encode(),
        headers=((PATH_HEADER, request.path.encode()), (TERMINAL_HEADER, terminal_id.encode()),
                 (BRANCH_HEADER, branch_id.encode()), ("branch.upload_index", str(index).encode())),
    )


def _parse(body: bytes) -> dict[str, Any]:
    upload = wire.parse(body)  # each event's tree is checked with the event: a bad one costs only itself
    if not isinstance(upload, dict):
        raise errors.bad_upload("body must be a JSON object with terminal_id, branch_id and events")
    beside = {name: value for name, value in upload.items() if name != "events"}  # each event is checked with itself
    if unknown := unknown_fields(beside, UPLOAD, top="the upload"):
        raise combined([errors.unknown_field(reason) for reason in unknown])
    return upload


def _event_id(event: Any) -> str | None:
    """An event's ``event_id`` as an answer may echo it: as text, a whole number as its text (the answer's schema
    says string; ``adapters.base.whole_ids``)."""
    return whole_text(event.get("event_id")) if isinstance(event, dict) else None


def _rejection(
    accepted: list[str], bad: list[tuple[int, Any, RejectedInput]], dropped: dict[str, Any]
) -> web.Response:
    event_id = _event_id
    rejected = [{"index": i, "event_id": event_id(e), "reason": err.reason, "code": err.code} for i, e, err in bad]
    details = "; ".join(f"event {i} (event_id {event_id(e)}): {err.reason}" for i, e, err in bad)
    reason = partly_rejected(len(bad), len(accepted), "events", details)
    body = {"success": False, "error": reason, "code": "invalid_events", "accepted": accepted, "rejected": rejected}
    return web.json_response({**body, **dropped}, status=400)


def running_branch_adapter(
    settings: OmnibusSettings, branch_settings: BranchSettings
) -> AbstractAsyncContextManager[RunningServer]:
    """The branch adapter serving on its port; on exit it drains in-flight uploads, then flushes Kafka."""

    def application(runtime: AdapterRuntime) -> web.Application:
        mapper = CounterMapper(branch_settings, settings.topics, settings.identifiers)
        return BranchIngress(branch_settings, runtime.publisher, mapper).app()

    return serving(NAME, settings, branch_settings, application)

"""Shared by the web-hall tests: samples, settings, and a client that delivers natives over HTTP."""

from __future__ import annotations

import base64
import json
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from adapters.base.errors import RejectedInput
from adapters.base.ingest import conforms
from adapters.base.mapper import DroppedPart, MappedRecord
from adapters.base.publisher import SubmitResult
from adapters.web.config import CLAIMABLE_KEY_TRAITS, DEFAULT_IDENTIFIER_TRAITS, WebSettings
from adapters.web.ingress import running_web_adapter
from bus.config import OmnibusSettings
from bus.errors import RawRecord
from tests.adapters.contract import Delivery

SAMPLES = Path(__file__).parent / "samples"
WRITE_KEY = "wk-portal-web-3f9a"
SOURCE = "portal-web"


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def message_id_of(contact_id: str) -> str:
    """The Segment ``messageId`` of a web contact id (``<messageId>:<digest>``, ``adapters.base.mapper.content_id``),
    as tests name the contacts they send."""
    return contact_id.rpartition(":")[0]


# A portal whose back end writes the account and card numbers and the national ID it verified, under the spellings
# read by default before tester25 F7 and tester29 F9 (adapters/web/config.py CLAIMABLE_KEY_TRAITS), in the order they
# were read then (the order of the identifiers on an event; tests/adapters/web/test_encoded_bytes.py)
VERIFYING_PORTAL = {"EMAIL": DEFAULT_IDENTIFIER_TRAITS["EMAIL"], "PHONE": DEFAULT_IDENTIFIER_TRAITS["PHONE"],
                    "NATIONAL_ID": CLAIMABLE_KEY_TRAITS["NATIONAL_ID"], "DEVICE": DEFAULT_IDENTIFIER_TRAITS["DEVICE"],
                    "ACCOUNT": CLAIMABLE_KEY_TRAITS["ACCOUNT"], "CARD": CLAIMABLE_KEY_TRAITS["CARD"]}


def web_settings(**overrides: Any) -> WebSettings:
    return WebSettings(**{"write_keys": {SOURCE: WRITE_KEY, "portal-app": "wk-portal-app-77c1"}, "port": 0, **overrides})


def basic_auth(key: str = WRITE_KEY) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@dataclass(frozen=True)
class Raw:
    """A body sent exactly as given (bad JSON, wrong media type...)."""

    body: bytes
    path: str = "/v1/batch"
    content_type: str = "application/json"
    auth: bool = True


@dataclass(frozen=True)
class WithKey:
    """A message sent with the given write key in Basic auth."""

    key: str
    message: dict[str, Any]


class WebClient:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def post(self, path: str, body: bytes, *, headers: dict[str, str]) -> Delivery:
        async with self.session.post(path, data=body, headers=headers) as response:
            text = await response.text()
            try:
                payload = json.loads(text)
            except ValueError:
                payload = {"error": text}
            return Delivery(
                accepted=response.status == 200, status=response.status,
                reason=payload.get("error") if isinstance(payload, dict) else None,
                retry_after=response.headers.get("Retry-After"), extra={"body": payload, "headers": dict(response.headers)},
            )

    async def deliver(self, native: Any) -> Delivery:
        """A message goes to /v1/<its type> with Basic auth; ``Raw`` and ``WithKey`` as they say."""
        if isinstance(native, Raw):
            headers = {"Content-Type": native.content_type}
            if native.auth:
                headers["Authorization"] = basic_auth()
            return await self.post(native.path, native.body, headers=headers)
        key, message = (native.key, native.message) if isinstance(native, WithKey) else (WRITE_KEY, native)
        path = f"/v1/{message.get('type', 'track')}"
        headers = {"Content-Type": "application/json", "Authorization": basic_auth(key)}
        return await self.post(path, json.dumps(message).encode(), headers=headers)


async def start_web(stack: AsyncExitStack, settings: OmnibusSettings, **overrides: Any) -> WebClient:
    server = await stack.enter_async_context(running_web_adapter(settings, web_settings(**overrides)))
    session = await stack.enter_async_context(aiohttp.ClientSession(f"http://127.0.0.1:{server.port}"))
    return WebClient(session)


class StandInPublisher:
    """Records what an ingress submits and rejects, in place of Kafka (for HTTP-level unit tests)."""

    def __init__(self, name: str = "stand-in") -> None:
        self.name = name  # the adapter's name: its 401s count as ``adapter.<name>`` (bus.refused_credentials)
        self.submitted: list[MappedRecord] = []
        self.rejected: list[tuple[RawRecord, RejectedInput]] = []
        self.parts_rejected: list[tuple[RawRecord, DroppedPart]] = []  # of published records (tester28 F6)
        self.failure: Exception | None = None
        self.duplicates_counted = 0

    async def submit(self, records: list[MappedRecord], *, received_at: float | None = None,
                     digests: object = None) -> SubmitResult:
        if self.failure:
            raise self.failure
        self.submitted.extend(records)
        # every record published, as the real publisher names them (``published_ids``: an import counts their events
        # by kind, ``adapters.base.import_summary``)
        return SubmitResult(published_events=sum(len(r.events) for r in records), duplicate_records=0,
                            published_ids=tuple(r.dedupe_id for r in records))

    def count_duplicates(self, records: int) -> None:
        self.duplicates_counted += records

    def encode_now(self, record: MappedRecord) -> MappedRecord | None:
        """Checked against the schemas as the real publisher's encoding checks it."""
        return conforms(record)

    async def encode(self, record: MappedRecord) -> MappedRecord:
        return conforms(record)

    async def reject(self, raw: RawRecord, error: RejectedInput) -> None:
        self.rejected.append((raw, error))

    async def reject_part(self, raw: RawRecord, dropped: DroppedPart) -> None:
        self.parts_rejected.append((raw, dropped))

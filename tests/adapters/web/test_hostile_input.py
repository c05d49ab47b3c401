"""Issue #10 case 13 (web hall): hostile input is answered 4xx and dead-lettered, or 2xx and published.

Each sample failed before the fix (500 with no dead letter, 200 and then lost, or one bad message
sinking the batch) and passes after it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import brotli
import pytest
from aiohttp.test_utils import TestClient

from adapters.web.ingress import WebIngress
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from tests.adapters.web.support import (
    StandInPublisher,
    basic_auth,
    sample,
    web_settings,
)
from tests.support.http import adapter_client

HEADERS = {"Authorization": basic_auth(), "Content-Type": "application/json"}
DEEP = "[" * 10_000 + "]" * 10_000


@pytest.fixture
def publisher() -> StandInPublisher:
    return StandInPublisher()


async def _client(publisher: StandInPublisher, **overrides: Any) -> AsyncIterator[TestClient]:
    settings = web_settings(**overrides)
    async with adapter_client(WebIngress(settings, publisher, SegmentMapper(settings, TopicSettings())).app()) as client:  # type: ignore[arg-type]
        yield client


@pytest.fixture
async def client(publisher: StandInPublisher) -> AsyncIterator[TestClient]:
    async for client in _client(publisher):
        yield client


async def post(client: TestClient, path: str, body: str | bytes, **headers: str) -> tuple[int, Any]:
    response = await client.post(path, data=body, headers={**HEADERS, **headers})
    return response.status, await response.json()


@pytest.mark.parametrize(("path", "body", "fragment"), [
    ("/v1/track", '{"userId":"u","event":"e","properties":' + DEEP + "}", "deeper"),
    ("/v1/batch", '{"batch":' + DEEP + "}", "deeper"),
    ("/v1/track", '{"userId":"u","event":"e","messageId":"m\\ud800"}', "surrogate"),
    ("/v1/track", '{"userId":"u","event":"e","timestamp":"9999-12-31T23:59:59.999999-14:00"}', "outside"),
    ("/v1/track", '{"userId":"u","event":"e","timestamp":"0001-01-01T00:00:00+14:00"}', "outside"),
    ("/v1/track", '{"userId":"u","event":"e","properties":{"x":1e400}}', "overflows"),
    ("/v1/track", '{"userId":"u","event":"e","properties":{"x":NaN}}', "NaN"),
    ("/v1/track", '{"userId":"u","event":"e","properties":{"x":Infinity}}', "Infinity"),
])
async def test_hostile_single_calls_are_4xx_with_a_reason_and_dead_lettered(
    client: TestClient, publisher: StandInPublisher, path: str, body: str, fragment: str
) -> None:
    status, answer = await post(client, path, body)
    assert 400 <= status < 500 and fragment in answer["error"], answer
    assert len(publisher.rejected) == 1 and fragment in publisher.rejected[0][1].reason
    assert publisher.submitted == []


async def test_a_brotli_body_is_decoded_and_a_corrupt_one_dead_lettered(
    client: TestClient, publisher: StandInPublisher
) -> None:
    message = json.dumps(sample("track_invoice_downloaded_analytics_js")).encode()
    assert (await post(client, "/v1/track", brotli.compress(message), **{"Content-Encoding": "br"}))[0] == 200
    status, answer = await post(client, "/v1/track", b"\x00garbage", **{"Content-Encoding": "br"})
    assert status == 400 and answer["code"] == "bad_encoding"
    raw, _ = publisher.rejected[0]
    assert raw.value == b"\x00garbage" and ("content-encoding", b"br") in raw.headers
    status, _ = await post(client, "/v1/track", b"xx", **{"Content-Encoding": "zstd"})
    assert status == 415 and len(publisher.rejected) == 2


async def test_a_page_then_a_screen_with_the_same_body_and_no_message_id_are_two_records(
    client: TestClient, publisher: StandInPublisher
) -> None:
    body = json.dumps({"userId": "u-1", "name": "Factures"})
    assert (await post(client, "/v1/page", body))[0] == 200
    assert (await post(client, "/v1/screen", body))[0] == 200
    assert (await post(client, "/v1/screen", body))[0] == 200  # a resend of the same call still dedupes
    ids = [record.dedupe_id for record in publisher.submitted]
    assert ids[0] != ids[1] and ids[1] == ids[2]


async def test_a_batch_with_one_bad_event_is_200_with_the_rejection_listed(
    client: TestClient, publisher: StandInPublisher
) -> None:
    """Issue #10 case 7: five good tracks and an "Offer Viewed" without offer_id."""
    good = [{"type": "track", "userId": "u-1", "event": "Invoice Paid", "messageId": f"m-{n}"} for n in range(5)]
    bad = {"type": "track", "userId": "u-1", "event": "Offer Viewed", "messageId": "m-bad", "properties": {}}
    status, answer = await post(client, "/v1/batch", json.dumps({"batch": [*good[:2], bad, *good[2:]]}))
    assert status == 200 and answer["success"] is True
    assert [(a["index"], a["messageId"]) for a in answer["accepted"]] == [(0, "m-0"), (1, "m-1"), (3, "m-2"), (4, "m-3"), (5, "m-4")]
    assert [(r["index"], r["messageId"]) for r in answer["rejected"]] == [(2, "m-bad")]
    assert len(publisher.submitted) == 5 and len(publisher.rejected) == 1
    assert json.loads(publisher.rejected[0][0].value)["messageId"] == "m-bad"


async def test_strict_batches_answer_400_and_still_publish_the_good_ones(publisher: StandInPublisher) -> None:
    async for client in _client(publisher, strict_batches=True):
        batch = {"batch": [{"type": "track", "userId": "u", "event": "e", "messageId": "ok"},
                           {"type": "track", "userId": "u", "messageId": "no-event"}]}
        status, answer = await post(client, "/v1/batch", json.dumps(batch))
        assert status == 400 and answer["accepted"] == [{"index": 0, "messageId": "ok"}]
        assert len(publisher.submitted) == 1 and len(publisher.rejected) == 1


async def test_one_hostile_message_in_a_batch_costs_only_itself(client: TestClient, publisher: StandInPublisher) -> None:
    batch = ('{"batch":[{"type":"track","userId":"u","event":"e","messageId":"ok"},'
             '{"type":"track","userId":"u","event":"e","messageId":"nan","properties":{"x":NaN}},'
             '{"type":"track","userId":"u\\udfff","event":"e","messageId":"surrogate"}]}')
    status, answer = await post(client, "/v1/batch", batch)
    assert status == 200 and answer["accepted"] == [{"index": 0, "messageId": "ok"}]
    assert [r["index"] for r in answer["rejected"]] == [1, 2]
    assert len(publisher.rejected) == 2


async def test_the_answer_never_echoes_a_message_id_that_is_not_text(client: TestClient) -> None:
    batch = {"batch": [{"type": "track", "userId": "u", "messageId": {"a": 1}}, {"type": "track", "messageId": [1]}]}
    status, answer = await post(client, "/v1/batch", json.dumps(batch))
    assert status == 200 and [r["messageId"] for r in answer["rejected"]] == [None, None]


async def test_a_device_clock_three_days_ahead_is_corrected_by_sent_at(
    client: TestClient, publisher: StandInPublisher
) -> None:
    """Issue #10 case 1: sentAt 3 days ahead, timestamp 10 s before it -> about 10 s before receipt."""
    ahead = datetime.now(UTC) + timedelta(days=3)
    batch = {"sentAt": ahead.isoformat(), "batch": [
        {"type": "track", "userId": "u", "event": "Service Request Submitted", "messageId": "sr-1",
         "timestamp": (ahead - timedelta(seconds=10)).isoformat(), "properties": {"request_id": "SR-1"}}]}
    before = datetime.now(UTC)
    assert (await post(client, "/v1/batch", json.dumps(batch)))[0] == 200
    events = {o.event.schema.rsplit(".", 1)[1]: o.event.value for o in publisher.submitted[0].events}
    occurred = events["HandoffCreated"]["envelope"]["occurred_at"]
    assert before - timedelta(seconds=11) <= occurred <= datetime.now(UTC) - timedelta(seconds=9)
    assert events["HandoffCreated"]["intake_facts"]["original_timestamp"] == (ahead - timedelta(seconds=10)).isoformat()
    assert events["InteractionRecorded"]["properties"]["original_timestamp"]


async def test_a_future_timestamp_without_sent_at_is_moved_back_to_the_receive_time(
    client: TestClient, publisher: StandInPublisher
) -> None:
    ahead = datetime.now(UTC) + timedelta(days=3)
    message = {"userId": "u", "event": "e", "timestamp": ahead.isoformat()}
    assert (await post(client, "/v1/track", json.dumps(message)))[0] == 200
    occurred = publisher.submitted[0].events[0].event.value["envelope"]["occurred_at"]
    assert occurred <= datetime.now(UTC)

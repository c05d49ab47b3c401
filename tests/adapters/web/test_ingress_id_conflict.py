"""A messageId reused for another event is refused (``id_conflict``), as the counter refuses a reused event_id; a
re-send of the same message, with a new ``sentAt`` or through a batch, is still a duplicate (tester22 F7: "Bill Paid"
under the messageId of an earlier "Bill Viewed" was dropped as a duplicate under a 200)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from adapters.web.ingress import WebIngress
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from tests.adapters.base.support import CountingKafka, DeadLetters, deduping_publisher
from tests.adapters.web.support import web_settings
from tests.adapters.web.test_ingress import post_json
from tests.support.http import adapter_client


def track(event: str, **extra: Any) -> dict[str, Any]:
    return {"userId": "portal-luc", "messageId": "t22-dup1", "event": event, "properties": {"bill_id": "B-77"},
            **extra}


@pytest.fixture
async def deduping() -> AsyncIterator[tuple[TestClient, CountingKafka, DeadLetters]]:
    """The ingress with the real publisher and dedupe store, Kafka's side stood in for."""
    publisher, kafka, dead_letters = deduping_publisher("web")
    settings = web_settings()
    ingress = WebIngress(settings, publisher, SegmentMapper(settings, TopicSettings()))
    async with adapter_client(ingress.app()) as client:
        yield client, kafka, dead_letters


async def test_another_event_under_a_used_message_id_is_refused_and_dead_lettered(
    deduping: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    client, kafka, dead_letters = deduping
    assert await post_json(client, "/v1/track", track("Bill Viewed")) == (200, {"success": True})
    published = len(kafka.published)
    status, answer = await post_json(client, "/v1/track", track("Bill Paid"))
    assert (status, answer["code"]) == (400, "id_conflict")
    assert "'portal-web:t22-dup1' was already published with other content" in answer["error"]
    assert len(kafka.published) == published and len(dead_letters.reasons) == 1

    # in a batch, Segment's answer: 200 with the refusal listed (400 with strict_batches)
    status, answer = await post_json(client, "/v1/batch", {"batch": [{**track("Bill Paid"), "type": "track"}]})
    assert (status, [r["code"] for r in answer["rejected"]]) == (200, ["id_conflict"])
    assert len(kafka.published) == published and len(dead_letters.reasons) == 2


async def test_a_resent_message_is_a_duplicate_whatever_its_send_time_and_path(
    deduping: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    client, kafka, dead_letters = deduping
    first = track("Bill Viewed", sentAt="2026-12-02T07:00:00.000Z")
    assert await post_json(client, "/v1/track", first) == (200, {"success": True})
    published = len(kafka.published)
    again = {**track("Bill Viewed", sentAt="2026-12-02T07:00:05.000Z", _metadata={"bundled": ["Segment.io"]}),
             "type": "track"}
    assert await post_json(client, "/v1/t", again) == (200, {"success": True})
    assert await post_json(client, "/v1/batch", {"batch": [again]}) == (200, {"success": True})
    assert len(kafka.published) == published and not dead_letters.reasons

"""The shared adapter contract, applied to the web hall, plus its batch behaviour on the real broker."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest

from adapters.base.mapper import MappedRecord
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.topics import CONTACT_EVENTS, IDENTIFIERS_OBSERVED
from tests.adapters.contract import AdapterContract, BadSample, Deliver, Sample
from tests.adapters.web.support import (
    SOURCE,
    WRITE_KEY,
    Raw,
    WithKey,
    basic_auth,
    message_id_of,
    sample,
    start_web,
    web_settings,
)
from tests.support.kafka_io import read_dead_letters, read_events
from tests.support.settings import settings_with_topics

IDENTIFIED = "USER_ID:u-1842"
ANONYMOUS = "ANONYMOUS_ID:2b1d7e65-31a8-4a0e-8a7e-5a0b3c9d4f18"
OBSERVED = "omnibus.contact.IdentifiersObserved"
INTERACTION = "omnibus.contact.InteractionRecorded"


class TestWebHallContract(AdapterContract):
    source_component = "adapter.web"
    samples = [
        Sample("identify (analytics-python)", sample("identify_analytics_python"), [(OBSERVED, IDENTIFIED)]),
        Sample("identify (rudder-sdk-python)", sample("identify_rudder_python"), [(OBSERVED, "USER_ID:u-3310")]),
        Sample("track service request (rudder-sdk-python)", sample("track_service_request_rudder_python"),
               [(INTERACTION, IDENTIFIED), ("omnibus.handoff.HandoffCreated", "SR-2024-000871")]),
        Sample("page (analytics.js, anonymous)", sample("page_analytics_js"), [(INTERACTION, ANONYMOUS)]),
        Sample("screen (analytics-ios)", sample("screen_analytics_ios"), [(INTERACTION, IDENTIFIED)]),
        Sample("track (analytics.js)", sample("track_invoice_downloaded_analytics_js"), [(INTERACTION, IDENTIFIED)]),
        Sample("offer viewed (analytics.js)", sample("track_offer_viewed_analytics_js"),
               [(INTERACTION, IDENTIFIED), ("omnibus.marketing.OfferPresented", IDENTIFIED)]),
        Sample("offer accepted (analytics-python)", sample("track_offer_accepted_analytics_python"),
               [(INTERACTION, IDENTIFIED), ("omnibus.marketing.OfferResponded", IDENTIFIED)]),
        Sample("offer declined (analytics-python)", sample("track_offer_declined_analytics_python"),
               [(INTERACTION, IDENTIFIED), ("omnibus.marketing.OfferResponded", IDENTIFIED)]),
        Sample("group (analytics-python)", sample("group_analytics_python"), [(OBSERVED, IDENTIFIED)]),
        Sample("alias (analytics.js)", sample("alias_analytics_js"), [(OBSERVED, IDENTIFIED)]),
    ]
    bad_samples = [
        BadSample("no userId nor anonymousId", {"type": "track", "event": "Invoice Paid", "messageId": "bad-1"},
                  "userId or an anonymousId"),
        BadSample("track without event", {"type": "track", "userId": "u-1", "messageId": "bad-2"}, "missing 'event'"),
        BadSample("bad timestamp", {"type": "page", "userId": "u-1", "timestamp": "yesterday", "messageId": "bad-3"},
                  "ISO-8601"),
        BadSample("offer without version", {"type": "track", "userId": "u-1", "event": "Offer Viewed",
                                            "properties": {"offer_id": "X"}, "messageId": "bad-4"}, "offer_version"),
        BadSample("alias without previousId", {"type": "alias", "userId": "u-1", "messageId": "bad-5"}, "previousId"),
        # tester18 F9: every field at fault named at once
        BadSample("no identity and a bad timestamp", {"type": "page", "timestamp": "yesterday", "messageId": "bad-6"},
                  "message needs a userId or an anonymousId; 'timestamp' is not an ISO-8601 date-time"),
        BadSample("alias without either id", {"type": "alias", "anonymousId": "a-1", "messageId": "bad-7"},
                  "alias call is missing 'userId'; alias call is missing 'previousId'"),
        BadSample("not JSON", Raw(b'{"batch": [{"type": "track",'), "not valid JSON", mapper_rejects=False),
        BadSample("batch not a list", Raw(b'{"batch": {"type": "track"}}'), "non-empty array", mapper_rejects=False),
        BadSample("unknown write key", WithKey("wk-stolen", sample("page_analytics_js")), "unknown write key",
                  mapper_rejects=False, dead_lettered=False),
    ]

    @pytest.fixture
    def mapper(self) -> Callable[[Any], MappedRecord]:
        mapper = SegmentMapper(web_settings(), TopicSettings())
        return lambda native: mapper(native, source=SOURCE)

    @pytest.fixture
    async def adapter(self) -> AsyncIterator[Callable[..., Any]]:
        async with AsyncExitStack() as stack:
            async def start(settings: Any, **overrides: Any) -> Deliver:
                return (await start_web(stack, settings, **overrides)).deliver

            yield start


@pytest.mark.kafka
async def test_a_gzipped_sdk_batch_lands_in_order_per_person(bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    body = sample("batch_analytics_python")
    async with AsyncExitStack() as stack:
        client = await start_web(stack, settings)
        delivery = await client.post("/v1/batch", gzip.compress(json.dumps(body).encode()), headers={
            "Content-Type": "application/json", "Content-Encoding": "gzip", "Authorization": basic_auth(),
        })
    assert delivery.accepted, delivery
    contacts = [l for l in await read_events(settings, CONTACT_EVENTS) if l.key == "USER_ID:u-2077"]
    assert [l.event.value["name"] for l in sorted(contacts, key=lambda l: l.offset)] == ["Invoice Paid", "Résilier mon offre"]
    observed = await read_events(settings, IDENTIFIERS_OBSERVED)
    assert {"type": "EMAIL", "value": "j.martin@example.org"} in observed[0].event.value["identifiers"]


@pytest.mark.kafka
async def test_a_mixed_batch_publishes_the_good_and_dead_letters_each_bad_message(bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    good = sample("track_invoice_downloaded_analytics_js")
    missing_event = {"type": "track", "userId": "u-9", "messageId": "m-bad-event"}
    anonymous = {"type": "page", "name": "Accueil", "messageId": "m-no-person"}
    body = json.dumps({"batch": [missing_event, good, anonymous], "writeKey": WRITE_KEY}).encode()
    async with AsyncExitStack() as stack:
        client = await start_web(stack, settings)
        delivery = await client.post("/v1/batch", body, headers={"Content-Type": "text/plain"})
    assert delivery.status == 200
    answer = delivery.extra["body"]
    assert answer["accepted"] == [{"index": 1, "messageId": good["messageId"]}]
    assert [(r["index"], r["messageId"]) for r in answer["rejected"]] == [(0, "m-bad-event"), (2, "m-no-person")]
    assert "message 0 (messageId m-bad-event)" in answer["error"] and "missing 'event'" in answer["error"]
    landed = await read_events(settings, CONTACT_EVENTS)
    assert [message_id_of(l.event.value["interaction_id"]) for l in landed] == [good["messageId"]]
    letters = await read_dead_letters(settings)
    assert sorted(json.loads(letter["value"])["messageId"] for letter in letters) == ["m-bad-event", "m-no-person"]
    assert all(letter["source_component"] == "adapter.web" for letter in letters)

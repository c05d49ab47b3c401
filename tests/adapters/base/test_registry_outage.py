"""The schema registry stops while an adapter runs (real broker, real registry, stopped for real).

tester11 #3: a refused web request (``Offer Viewed`` without ``offer_version``) got a text/plain 500 and was
counted as a rejection with no dead letter, because its dead letter's schema could not be registered. The
adapter's answer must be a 503 with Retry-After, counted as unavailable; input whose schemas are already
known keeps being accepted; once the registry is back the same request gets its 400 and its dead letter.
"""

from __future__ import annotations

import copy
import json
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from tests.adapters.web.support import basic_auth, sample, start_web
from tests.support.kafka_io import read_dead_letters
from tests.support.registry import stoppable_registry
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.registry]
HEADERS = {"Content-Type": "application/json", "Authorization": basic_auth()}


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _rejected() -> float:
    return sum(s.value for m in REGISTRY.collect() for s in m.samples
               if s.name == "omnibus_adapter_records_rejected_total" and s.labels.get("adapter") == "web")


async def test_refused_input_with_the_registry_stopped_is_a_503_then_a_400_when_it_is_back(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    registry = stoppable_registry(tmp_path / "registry")  # comes back where the clients look, with its schemas
    try:
        settings = await settings_with_topics(bootstrap_servers, registry={"url": registry.url})
        good = sample("track_offer_viewed_analytics_js")
        bad = copy.deepcopy(good)
        del bad["properties"]["offer_version"]
        bad["messageId"] = "t11-u3002-offer-viewed"
        async with AsyncExitStack() as stack:
            client = await start_web(stack, settings)
            assert (await client.deliver(good)).status == 200  # its schemas are registered, then cached

            registry.stop()
            unavailable, rejected = _count("omnibus_adapter_unavailable_total", adapter="web"), _rejected()
            refused = await client.post("/v1/track", json.dumps(bad).encode(), headers=HEADERS)
            assert refused.status == 503, refused
            assert refused.retry_after is not None and int(refused.retry_after) > 0
            assert refused.extra["body"]["code"] == "unavailable"
            assert _count("omnibus_adapter_unavailable_total", adapter="web") == unavailable + 1
            assert _rejected() == rejected
            again = {**good, "messageId": "t11-known-type-while-registry-down"}
            assert (await client.deliver(again)).status == 200  # known schemas need no registry

            registry.start()
            refused = await client.post("/v1/track", json.dumps(bad).encode(), headers=HEADERS)
            assert refused.status == 400, refused
        letters = await read_dead_letters(settings)
        assert [letter for letter in letters if "offer_version" in letter["reason"]], letters
    finally:
        registry.stop()


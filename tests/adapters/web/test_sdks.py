"""The real Segment-protocol SDKs, unmodified but for their host setting, deliver to the web hall.

segment-analytics-python posts plain JSON batches; rudder-sdk-python gzips them. Both post to
``/v1/batch`` from a background thread; ``flush()`` returns once the queue has been uploaded.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from types import ModuleType
from typing import Any

import pytest

from adapters.web.ingress import running_web_adapter
from bus.topics import CONTACT_EVENTS, HANDOFF_EVENTS, IDENTIFIERS_OBSERVED
from tests.adapters.web.support import WRITE_KEY, web_settings
from tests.support.kafka_io import read_events
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka


def _segment() -> ModuleType:
    from segment import analytics

    return analytics


def _rudderstack() -> ModuleType:
    from rudderstack import analytics

    return analytics


def _send_with(analytics: ModuleType, host_setting: str, host: str, errors: list[Any]) -> None:
    saved = {name: getattr(analytics, name) for name in ("write_key", host_setting, "on_error")}
    analytics.write_key = WRITE_KEY
    setattr(analytics, host_setting, host)
    analytics.on_error = lambda error, batch: errors.append(error)
    analytics.default_client = None
    try:
        analytics.identify("u-sdk-7", {"email": "Sdk.User@Example.org", "phone": "+33 6 98 76 54 32", "name": "Sdk User"})
        analytics.track("u-sdk-7", "Invoice Downloaded", {"invoice_id": "BILL-1"})
        analytics.track("u-sdk-7", "Service Request Submitted", {"request_id": "SR-SDK-1", "case_type": "line-repair",
                                                                 "summary": "No dial tone since Monday"})
        analytics.flush()
    finally:
        analytics.shutdown()
        analytics.default_client = None
        for name, value in saved.items():
            setattr(analytics, name, value)


@pytest.mark.parametrize(("sdk", "host_setting"), [(_segment, "host"), (_rudderstack, "dataPlaneUrl")],
                         ids=["segment-analytics-python", "rudder-sdk-python"])
async def test_the_sdk_delivers_identify_and_track_to_kafka(sdk: Any, host_setting: str, bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    errors: list[Any] = []
    async with AsyncExitStack() as stack:
        server = await stack.enter_async_context(running_web_adapter(settings, web_settings()))
        await asyncio.to_thread(_send_with, sdk(), host_setting, f"http://127.0.0.1:{server.port}", errors)
    assert errors == []
    observed = [l.event.value for l in await read_events(settings, IDENTIFIERS_OBSERVED)]
    assert [o["identifiers"] for o in observed] == [[
        {"type": "USER_ID", "value": "u-sdk-7"}, {"type": "EMAIL", "value": "sdk.user@example.org"},
        {"type": "PHONE", "value": "+33698765432"},
    ]]
    contacts = sorted(await read_events(settings, CONTACT_EVENTS), key=lambda l: l.offset)
    assert [(l.key, l.event.value["name"]) for l in contacts] == [
        ("USER_ID:u-sdk-7", "Invoice Downloaded"), ("USER_ID:u-sdk-7", "Service Request Submitted")
    ]
    handoffs = await read_events(settings, HANDOFF_EVENTS)
    assert [(l.key, l.event.value["case_type"]) for l in handoffs] == [("SR-SDK-1", "line-repair")]

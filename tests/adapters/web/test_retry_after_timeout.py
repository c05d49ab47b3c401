"""A 503 whose records Kafka took after all: the sender's retry with the same messageId publishes nothing twice.

A bank's CRM developer's finding (F11): the adapter answers 503 when Kafka has not acknowledged within
``publish_timeout_s``, but the send is not abandoned (``adapters.base.publisher``): the broker may still take it. The
sample: the broker paused (SIGSTOP) while a message was sent, so the adapter answered 503, then resumed, so the
message landed; the client retried the same message and got 200, and the topic holds the event once.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import REGISTRY

from adapters.web.ingress import running_web_adapter
from bus.stack.kafka import KafkaBroker
from bus.topics import CONTACT_EVENTS
from tests.adapters.web.support import basic_auth, web_settings
from tests.support.kafka_io import read_events
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(240)]  # a broker of its own


def _state(pid: int) -> str:
    """The process state letter of ``pid`` (``T``: stopped), from /proc."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


async def _post_until_answered(http: aiohttp.ClientSession, url: str, body: dict[str, str],
                               headers: dict[str, str]) -> tuple[int, str]:
    """POST as a Segment client does: again after Retry-After while answered 503 (30 tries); (status, body)."""
    for _ in range(30):
        async with http.post(url, json=body, headers=headers) as response:
            status, text = response.status, await response.text()
            if status != 503:
                break
            await asyncio.sleep(float(response.headers["Retry-After"]))
    return status, text


def _duplicates() -> float:
    return REGISTRY.get_sample_value("omnibus_adapter_duplicates_total", {"adapter": "web"}) or 0.0


async def test_a_retry_of_a_message_answered_503_that_kafka_took_is_not_published_again(tmp_path: Path) -> None:
    broker = KafkaBroker(tmp_path / "broker")  # its own: the session broker must never pause
    await asyncio.to_thread(broker.start)
    assert broker.pid is not None
    try:
        settings = await settings_with_topics(broker.bootstrap_servers, partitions=1)
        message = {"type": "track", "event": "Invoice Downloaded", "userId": "u-503", "messageId": "m-503"}
        auth = {"Authorization": basic_auth()}
        async with running_web_adapter(settings, web_settings(publish_timeout_s=2, retry_after_s=1)) as server, \
                aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{server.port}/v1/track"
            status, text = await _post_until_answered(http, url, {**message, "messageId": "m-first"}, auth)
            assert status == 200, text  # the new topic has its leader: the broker answers
            before = _duplicates()
            os.kill(broker.pid, signal.SIGSTOP)
            try:
                while _state(broker.pid) != "T":  # stopped: the signal reaches every thread a moment later
                    await asyncio.sleep(0.01)
                async with http.post(url, json=message, headers=auth) as response:
                    assert response.status == 503, await response.text()
                    assert response.headers["Retry-After"] == "1"
            finally:
                os.kill(broker.pid, signal.SIGCONT)  # the send was not abandoned: the broker takes it now
            status, text = await _post_until_answered(http, url, message, auth)  # the client's retry
            assert status == 200, text
            assert _duplicates() - before == 1
        landed = [item for item in await read_events(settings, CONTACT_EVENTS)
                  if item.event.value["envelope"]["source_event_id"] == "m-503"]
        assert len(landed) == 1, [item.event.value["envelope"]["event_id"] for item in landed]
    finally:
        os.kill(broker.pid, signal.SIGCONT)
        await asyncio.to_thread(broker.stop)

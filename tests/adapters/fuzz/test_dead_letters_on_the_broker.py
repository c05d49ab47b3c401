"""Issue #13 item 6, the broker-backed sample: hostile cases sent to the real adapters on the real
broker; every refusal the answers report is a dead letter on the topic, with its reason."""

from __future__ import annotations

import json
import random
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import pytest

from adapters.call_center.ingress_http import running
from tests.adapters.branch.support import TOKENS, start_branch
from tests.adapters.call_center.support import PARIS_KEY, call_center_settings
from tests.adapters.fuzz import strategies
from tests.adapters.fuzz.test_wire_formats import COUNTER_EVENTS, CTRS, WEB_SAMPLES
from tests.adapters.web.support import basic_auth, start_web
from tests.support.kafka_io import read_dead_letters
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka
SAMPLE_CASES = 40


def _letters_expected(status: int, answer: Any) -> int:
    """How many dead letters an answer promises: one per listed refusal, else one for a refused body."""
    assert status < 500, (status, answer)
    if isinstance(answer, dict) and isinstance(answer.get("rejected"), list):
        return len(answer["rejected"])
    if status >= 400:
        assert answer["error"]
        return 0 if status == 401 else 1
    return 0


async def _send(session: aiohttp.ClientSession, path: str, body: bytes, headers: dict[str, str]) -> int:
    async with session.post(path, data=body, headers=headers) as response:
        text = await response.read()
        answer = json.loads(text) if text else {}
        if isinstance(answer, dict) and "requestId" in answer:
            return -1  # Firehose's own answer format lists no refusals
        return _letters_expected(response.status, answer)


async def test_every_refusal_of_a_hostile_sample_is_a_dead_letter_on_the_broker(bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    expected, firehose = 0, 0
    segment = strategies.segment(WEB_SAMPLES)
    ctr = strategies.ctr_bodies(CTRS)
    counter = strategies.counter_uploads(COUNTER_EVENTS, "CT-0142-03", "0142")
    async with AsyncExitStack() as stack:
        web = (await start_web(stack, settings)).session
        branch = (await start_branch(stack, settings)).session
        server = await stack.enter_async_context(running(settings, call_center_settings()))
        call_center = await stack.enter_async_context(aiohttp.ClientSession(f"http://127.0.0.1:{server.port}"))
        for seed in range(SAMPLE_CASES):
            rnd = random.Random(seed)
            path, body, headers = segment(rnd)
            expected += await _send(web, path, body, {"Authorization": basic_auth(), **headers})
            body, headers = ctr(rnd)
            letters = await _send(call_center, "/v1/connect/ctr", body, {"Authorization": f"Bearer {PARIS_KEY}", **headers})
            expected, firehose = (expected, firehose + 1) if letters < 0 else (expected + letters, firehose)
            body, headers = counter(rnd)
            expected += await _send(branch, "/v1/counter/events", body,
                                    {"Authorization": f"Bearer {TOKENS['CT-0142-03']}", **headers})
    letters = await read_dead_letters(settings)
    assert expected > SAMPLE_CASES  # the sample is hostile enough to refuse many
    assert expected <= len(letters) <= expected + 3 * firehose  # a Firehose delivery holds at most 3 here
    assert all(letter["reason"] and letter["source_component"].startswith("adapter.") for letter in letters)

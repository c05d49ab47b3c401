"""Issue #10 case 13 (branch counters): a hostile event in an upload costs only itself, never a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient

from adapters.branch.ingress import UPLOAD_PATH, BranchIngress
from adapters.branch.mapper import CounterMapper
from bus.config import TopicSettings
from tests.adapters.branch.support import TOKENS, branch_settings, sample
from tests.adapters.web.support import StandInPublisher
from tests.support.http import adapter_client

HEADERS = {"Authorization": f"Bearer {TOKENS['CT-0142-03']}"}


@pytest.fixture
def publisher() -> StandInPublisher:
    return StandInPublisher()


@pytest.fixture
async def client(publisher: StandInPublisher) -> AsyncIterator[TestClient]:
    settings = branch_settings()
    async with adapter_client(BranchIngress(settings, publisher, CounterMapper(settings, TopicSettings())).app()) as client:  # type: ignore[arg-type]
        yield client


def upload(*events: str) -> str:
    good = json.dumps(sample("ticket_called_counter")["events"][0])
    return '{"terminal_id": "CT-0142-03", "branch_id": "0142", "events": [' + ",".join([good, *events]) + "]}"


@pytest.mark.parametrize(("event", "fragment"), [
    ('{"event_id": "e\\ud800", "kind": "no_show"}', "surrogate"),
    ('{"event_id": "deep", "kind": "no_show", "x": ' + "[" * 100 + "]" * 100 + "}", "deeper"),
    ('{"event_id": "nan", "kind": "no_show", "x": NaN}', "NaN"),
    ('{"event_id": "far", "kind": "no_show", "occurred_at": "9999-12-31T23:59:59.999999-14:00"}', "outside"),
])
async def test_a_hostile_event_is_refused_alone_with_a_dead_letter(
    client: TestClient, publisher: StandInPublisher, event: str, fragment: str
) -> None:
    response = await client.post(UPLOAD_PATH, data=upload(event), headers=HEADERS)
    answer = await response.json()
    assert response.status == 400 and fragment in answer["rejected"][0]["reason"], answer
    assert len(publisher.submitted) == 1 and len(publisher.rejected) == 1
    assert all(isinstance(r["event_id"], str | None) for r in answer["rejected"])


async def test_an_upload_nested_10000_deep_is_400_and_dead_lettered(client: TestClient, publisher: StandInPublisher) -> None:
    response = await client.post(UPLOAD_PATH, data=upload("[" * 10_000 + "]" * 10_000), headers=HEADERS)
    assert response.status == 400 and "deeper" in (await response.json())["error"]
    assert len(publisher.rejected) == 1


async def test_a_terminal_clock_ahead_is_moved_back_to_the_receive_time(
    client: TestClient, publisher: StandInPublisher
) -> None:
    event = sample("ticket_called_counter")["events"][0]
    event["occurred_at"] = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    body = {"terminal_id": "CT-0142-03", "branch_id": "0142", "events": [event]}
    response = await client.post(UPLOAD_PATH, data=json.dumps(body), headers=HEADERS)
    assert response.status == 200
    assert publisher.submitted[0].events[0].event.value["envelope"]["occurred_at"] <= datetime.now(UTC)

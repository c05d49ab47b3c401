"""Issue #13 build 7: signed TaskRouter callbacks must be fresh and are accepted once.

Twilio signs the whole form (``X-Twilio-Signature``, HMAC-SHA1 over the URL and every parameter), and each event
callback carries its own ``Timestamp``/``TimestampMs`` and event ``Sid``. So the adapter refuses (401, no dead
letter: it is not input, it is an attacker or a misconfiguration) a correctly signed request whose timestamp is
outside ``twilio_max_age_s`` of its clock, and one whose event Sid it already accepted; unsigned and wrongly keyed
requests were already refused.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient
from twilio.request_validator import RequestValidator

from adapters.call_center.ingress_http import CallCenterIngress
from adapters.call_center.mapper import Topics
from adapters.call_center.state import CallCenterState
from bus.config import TopicSettings
from tests.adapters.call_center.support import LYON_TWILIO_TOKEN, call_center_settings, sample
from tests.adapters.web.support import StandInPublisher
from tests.support.http import adapter_client

MAX_AGE_S = 300.0


@pytest.fixture
def publisher() -> StandInPublisher:
    return StandInPublisher()


@pytest.fixture
async def client(publisher: StandInPublisher, tmp_path: Path) -> AsyncIterator[TestClient]:
    settings = call_center_settings(twilio_max_age_s=MAX_AGE_S)
    state = CallCenterState(tmp_path / "state.sqlite")
    ingress = CallCenterIngress(settings, Topics.of(TopicSettings()), publisher, state)  # type: ignore[arg-type]
    async with adapter_client(ingress.app()) as client:
        yield client
    state.close()


def terminal(at_s: float, **changes: str) -> dict[str, str]:
    """The recorded "task completed" callback, stamped ``at_s`` (Unix seconds)."""
    form = {**sample("taskrouter_answered.json")[-1], "Timestamp": str(int(at_s)),
            "TimestampMs": str(int(at_s * 1000)), **changes}
    return form


async def callback(client: TestClient, form: dict[str, str], *, token: str = LYON_TWILIO_TOKEN,
                   signed: bool = True) -> tuple[int, str]:
    url = str(client.make_url("/v1/twilio/taskrouter"))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signed:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(url, form)
    response = await client.post("/v1/twilio/taskrouter", data=urlencode(form), headers=headers)
    return response.status, await response.text()


async def test_a_fresh_signed_callback_is_accepted_once_and_its_replay_refused(
    client: TestClient, publisher: StandInPublisher
) -> None:
    form = terminal(time.time() - 5)
    assert (await callback(client, form))[0] == 204
    status, text = await callback(client, form)
    assert status == 401 and "replayed" in text, text
    assert len(publisher.submitted) == 1 and not publisher.rejected


@pytest.mark.parametrize("offset_s", [-(MAX_AGE_S + 60), MAX_AGE_S + 60, -10 * 365 * 86400])
async def test_a_signed_callback_outside_the_tolerance_is_refused(
    client: TestClient, publisher: StandInPublisher, offset_s: float
) -> None:
    status, text = await callback(client, terminal(time.time() + offset_s, Sid="EA-stale"))
    assert status == 401 and "Timestamp" in text, text
    assert not publisher.submitted and not publisher.rejected


@pytest.mark.parametrize("stamp", [{"Timestamp": "nan", "TimestampMs": ""}, {"Timestamp": "", "TimestampMs": ""},
                                   {"Timestamp": "1e400", "TimestampMs": ""}])
async def test_a_signed_callback_without_a_usable_timestamp_is_refused(
    client: TestClient, publisher: StandInPublisher, stamp: dict[str, str]
) -> None:
    status, text = await callback(client, terminal(time.time(), **stamp))
    assert status == 401, text
    assert not publisher.submitted


async def test_unsigned_and_wrongly_keyed_callbacks_are_refused(
    client: TestClient, publisher: StandInPublisher
) -> None:
    form = terminal(time.time())
    assert (await callback(client, form, signed=False))[0] == 401
    assert (await callback(client, form, token="0" * 32))[0] == 401
    tampered_url = str(client.make_url("/v1/twilio/taskrouter"))
    signature = RequestValidator(LYON_TWILIO_TOKEN).compute_signature(tampered_url, form)
    response = await client.post("/v1/twilio/taskrouter", data=urlencode({**form, "Timestamp": "1"}),
                                 headers={"X-Twilio-Signature": signature,
                                          "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 401  # re-dating a captured request breaks its signature
    assert not publisher.submitted and not publisher.rejected


async def test_a_replay_is_refused_after_a_restart(publisher: StandInPublisher, tmp_path: Path) -> None:
    settings = call_center_settings(twilio_max_age_s=MAX_AGE_S)
    form = terminal(time.time())
    for expected in (204, 401):  # the Sids accepted are in the state file, not in memory
        state = CallCenterState(tmp_path / "state.sqlite")
        ingress = CallCenterIngress(settings, Topics.of(TopicSettings()), publisher, state)  # type: ignore[arg-type]
        async with adapter_client(ingress.app()) as client:
            assert (await callback(client, form))[0] == expected
        state.close()


def test_accepted_event_sids_are_forgotten_after_the_span(tmp_path: Path) -> None:
    state = CallCenterState(tmp_path / "state.sqlite")
    state.twilio_event_accepted("EA-old", now_s=1000.0, keep_s=600.0)
    state.twilio_event_accepted("EA-new", now_s=1700.0, keep_s=600.0)  # prunes what is older than 1100
    assert not state.twilio_event_seen("EA-old") and state.twilio_event_seen("EA-new")
    state.close()

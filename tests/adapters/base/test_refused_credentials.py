"""tester34 F16: every 401 of the three HTTP adapters is counted by reason and logged, without the credential.

A wrong write key, a stale terminal token and a TaskRouter callback whose signature does not match each left no
log line, metric or alert: operations learnt of it when the CRM stayed empty. ``adapters.base.http.error_policy``
counts each ``Unauthorized`` by its cause (``bus.refused_credentials``).

tester35 F8: the answer and the count must agree (Basic auth sent to the branch adapter was counted ``malformed``),
and the ``WWW-Authenticate`` challenge must name the route's own scheme (the branch adapter asks for Bearer, not
Basic; a TaskRouter callback's signature has no standard challenge, so its 401 carries none).
"""

from __future__ import annotations

import json
import time
from base64 import b64encode
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient
from twilio.request_validator import RequestValidator

from adapters.branch.ingress import UPLOAD_PATH, BranchIngress
from adapters.branch.mapper import CounterMapper
from adapters.call_center.ingress_http import CallCenterIngress
from adapters.call_center.mapper import Topics
from adapters.call_center.state import CallCenterState
from adapters.web.ingress import WebIngress
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.refused_credentials import BASIC_CHALLENGE, BEARER_CHALLENGE
from tests.adapters.branch.support import TOKENS, branch_settings
from tests.adapters.branch.test_ingress import three_events
from tests.adapters.call_center.support import LYON_TWILIO_TOKEN, call_center_settings, sample
from tests.adapters.web.support import StandInPublisher, basic_auth, web_settings
from tests.adapters.web.support import sample as web_sample
from tests.support.http import adapter_client
from tests.support.refusals import refusal_lines, refused_total

TASKROUTER = "/v1/twilio/taskrouter"
ACCESS_KEY_CHALLENGE = f"{BEARER_CHALLENGE}, {BASIC_CHALLENGE}"
# The words of the answer that say what the count's reason says (the others are checked by their own tests).
ANSWER_SAYS = {"missing": "missing ", "malformed": "malformed ", "unknown": "unknown ", "replayed": "replayed ",
               "bad_signature": "does not match", "stale": "Timestamp is missing or more than",
               "wrong_terminal": "terminal"}


def _secrets_absent(lines: list[dict[str, Any]], *secrets: str) -> None:
    text = json.dumps(lines)
    for secret in secrets:
        assert secret not in text


async def _refused_once(client: TestClient, component: str, reason: str, monkeypatch: pytest.MonkeyPatch,
                        send: Any, *secrets: str, challenge: str | None) -> dict[str, Any]:
    """Send twice: both 401 with ``challenge`` (None: no WWW-Authenticate) and an answer that says ``reason``, both
    counted under ``reason``, one log line (the second within the window)."""
    before = refused_total(component, reason)
    with refusal_lines(monkeypatch) as lines:
        for _ in range(2):
            response = await send()
            assert response.status == 401, await response.text()
            assert response.headers.get("WWW-Authenticate") == challenge
            answer = (await response.json())["error"]
            assert ANSWER_SAYS[reason] in answer, (reason, answer)
    assert refused_total(component, reason) - before == 2
    (line,) = lines
    assert (line["component"], line["reason"], line["refused"], line["log_level"]) == (component, reason, 1, "warning")
    _secrets_absent(lines, *secrets)
    return line


@pytest.fixture
async def web_client() -> AsyncIterator[TestClient]:
    settings = web_settings()
    publisher = StandInPublisher("web")
    async with adapter_client(WebIngress(settings, publisher, SegmentMapper(settings, TopicSettings())).app()) as client:  # type: ignore[arg-type]
        yield client


@pytest.mark.parametrize(("headers", "body", "reason"), [
    ({}, {}, "missing"),
    ({}, {"writeKey": "wk-rotated-0000"}, "unknown"),
    ({"Authorization": basic_auth("wk-rotated-0000")}, {}, "unknown"),
    ({"Authorization": "Bearer wk-rotated-0000"}, {}, "malformed"),
    ({"Authorization": "Basic !!!"}, {}, "malformed"),
])
async def test_the_web_hall_counts_and_logs_each_kind_of_refused_write_key(
    web_client: TestClient, monkeypatch: pytest.MonkeyPatch, headers: dict[str, str], body: dict[str, Any],
    reason: str,
) -> None:
    payload = json.dumps({**web_sample("track_invoice_downloaded_analytics_js"), **body})
    line = await _refused_once(
        web_client, "adapter.web", reason, monkeypatch,
        lambda: web_client.post("/v1/track", data=payload, headers={
            "Content-Type": "application/json", "X-Forwarded-For": "203.0.113.7, 10.0.0.2", **headers}),
        "wk-rotated-0000", challenge=BASIC_CHALLENGE)
    assert line["route"] == "/v1/track" and line["peer"] == "127.0.0.1"
    assert line["forwarded_for"] == "203.0.113.7, 10.0.0.2"  # behind an ingress the peer is the ingress (tester35 F3)


@pytest.fixture
async def branch_client() -> AsyncIterator[TestClient]:
    settings = branch_settings()
    ingress = BranchIngress(settings, StandInPublisher("branch"), CounterMapper(settings, TopicSettings()))  # type: ignore[arg-type]
    async with adapter_client(ingress.app()) as client:
        yield client


@pytest.mark.parametrize(("headers", "changes", "reason"), [
    ({}, {}, "missing"),
    ({"Authorization": "Basic abc"}, {}, "malformed"),
    ({"Authorization": "Basic " + b64encode(f"CT-0142-03:{TOKENS['CT-0142-03']}".encode()).decode()}, {},
     "malformed"),  # curl -u CT-0142-03:<its token>: tester35 F8's sample
    ({"Authorization": "Bearer "}, {}, "malformed"),
    ({"Authorization": TOKENS["CT-0142-03"]}, {}, "malformed"),  # the token with no scheme: never echoed
    ({"Authorization": "Bearer tok-stale-1111"}, {}, "unknown"),
    ({"Authorization": f"Bearer {TOKENS['CT-0142-01']}"}, {}, "wrong_terminal"),  # another terminal's token
    ({"Authorization": f"Bearer {TOKENS['CT-0142-03']}"}, {"branch_id": "0143"}, "wrong_terminal"),  # other branch
])
async def test_the_branch_adapter_counts_and_logs_each_kind_of_refused_terminal_token(
    branch_client: TestClient, monkeypatch: pytest.MonkeyPatch, headers: dict[str, str], changes: dict[str, str],
    reason: str,
) -> None:
    body = json.dumps({**three_events(), **changes})
    line = await _refused_once(branch_client, "adapter.branch", reason, monkeypatch,
                               lambda: branch_client.post(UPLOAD_PATH, data=body, headers=headers),
                               "tok-stale-1111", *TOKENS.values(), challenge=BEARER_CHALLENGE)
    assert line["route"] == UPLOAD_PATH


@pytest.fixture
async def call_center_client(tmp_path: Path) -> AsyncIterator[TestClient]:
    state = CallCenterState(tmp_path / "state.sqlite")
    ingress = CallCenterIngress(call_center_settings(twilio_max_age_s=300), Topics.of(TopicSettings()),
                                StandInPublisher("call_center"), state)  # type: ignore[arg-type]
    async with adapter_client(ingress.app()) as client:
        yield client
    state.close()


def _taskrouter_form(at_s: float, sid: str) -> dict[str, str]:
    return {**sample("taskrouter_answered.json")[-1], "Timestamp": str(int(at_s)),
            "TimestampMs": str(int(at_s * 1000)), "Sid": sid}


@pytest.mark.parametrize(("signature", "age_s", "reason"), [
    (None, 0, "missing"),
    ("", 0, "missing"),  # an empty X-Twilio-Signature
    ("0" * 32, 0, "bad_signature"),  # signed with another auth token (or for another URL: behind a proxy)
    (LYON_TWILIO_TOKEN, 3600, "stale"),
])
async def test_the_call_center_counts_and_logs_each_kind_of_refused_taskrouter_callback(
    call_center_client: TestClient, monkeypatch: pytest.MonkeyPatch, signature: str | None, age_s: float,
    reason: str,
) -> None:
    url = str(call_center_client.make_url(TASKROUTER))

    def send() -> Any:
        form = _taskrouter_form(time.time() - age_s, f"EA-{reason}-{time.monotonic_ns()}")
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature is not None:
            headers["X-Twilio-Signature"] = signature and RequestValidator(signature).compute_signature(url, form)
        return call_center_client.post(TASKROUTER, data=urlencode(form), headers=headers)

    line = await _refused_once(call_center_client, "adapter.call_center", reason, monkeypatch, send, LYON_TWILIO_TOKEN,
                               challenge=None)
    assert line["route"] == TASKROUTER


async def test_a_replayed_taskrouter_callback_and_an_unknown_access_key_are_counted_by_their_reason(
    call_center_client: TestClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = str(call_center_client.make_url(TASKROUTER))
    form = _taskrouter_form(time.time(), "EA-replayed-once")
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": RequestValidator(LYON_TWILIO_TOKEN).compute_signature(url, form)}
    assert (await call_center_client.post(TASKROUTER, data=urlencode(form), headers=headers)).status == 204
    await _refused_once(call_center_client, "adapter.call_center", "replayed", monkeypatch,
                        lambda: call_center_client.post(TASKROUTER, data=urlencode(form), headers=headers),
                        challenge=None)
    await _refused_once(call_center_client, "adapter.call_center", "unknown", monkeypatch,
                        lambda: call_center_client.post("/v1/connect/ctr", data=b"{}",
                                                        headers={"X-Amz-Firehose-Access-Key": "firehose-old-2222"}),
                        "firehose-old-2222", challenge=ACCESS_KEY_CHALLENGE)


async def test_a_taskrouter_callback_of_an_unknown_workspace_is_counted_unknown(
    call_center_client: TestClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = str(call_center_client.make_url(TASKROUTER))
    form = {**_taskrouter_form(time.time(), "EA-unknown-workspace"), "WorkspaceSid": "WS-not-configured"}
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": RequestValidator(LYON_TWILIO_TOKEN).compute_signature(url, form)}
    await _refused_once(call_center_client, "adapter.call_center", "unknown", monkeypatch,
                        lambda: call_center_client.post(TASKROUTER, data=urlencode(form), headers=headers),
                        challenge=None)


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "missing"),
    ({"Authorization": "Bearer firehose-old-2222"}, "unknown"),
    ({"Authorization": basic_auth("firehose-old-2222")}, "unknown"),
    ({"Authorization": "Digest username=firehose-old-2222"}, "malformed"),
    ({"Authorization": "Basic !!!"}, "malformed"),
    ({"Authorization": "Bearer "}, "malformed"),
])
@pytest.mark.parametrize("path", ["/v1/connect/ctr", "/v1/asterisk/cdr"])
async def test_the_call_centers_key_routes_count_each_kind_of_refused_access_key(
    call_center_client: TestClient, monkeypatch: pytest.MonkeyPatch, headers: dict[str, str], reason: str, path: str,
) -> None:
    line = await _refused_once(call_center_client, "adapter.call_center", reason, monkeypatch,
                               lambda: call_center_client.post(path, data=b"{}", headers=headers),
                               "firehose-old-2222", challenge=ACCESS_KEY_CHALLENGE)
    assert line["route"] == path

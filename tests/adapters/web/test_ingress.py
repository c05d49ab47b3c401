"""The Segment HTTP surface of the web hall, with a stand-in publisher (no broker needed)."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from adapters.base.errors import Unavailable
from adapters.web.config import MAX_EVENT_BYTES
from adapters.web.errors import WebConfigError
from adapters.web.ingress import WebIngress
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from tests.adapters.base.test_publisher_encode import publisher as real_publisher
from tests.adapters.web.support import WRITE_KEY, StandInPublisher, basic_auth, sample, web_settings
from tests.support.http import adapter_client


@pytest.fixture
def publisher() -> StandInPublisher:
    return StandInPublisher()


@pytest.fixture
async def client(publisher: StandInPublisher) -> AsyncIterator[TestClient]:
    settings = web_settings(cors_origins=("https://www.example-telecom.fr",))
    ingress = WebIngress(settings, publisher, SegmentMapper(settings, TopicSettings()))  # type: ignore[arg-type]
    async with adapter_client(ingress.app()) as test_client:
        yield test_client


def auth() -> dict[str, str]:
    return {"Authorization": basic_auth(), "Content-Type": "application/json"}


async def post_json(client: TestClient, path: str, body: Any, **headers: str) -> tuple[int, dict[str, Any]]:
    response = await client.post(path, data=json.dumps(body), headers={**auth(), **headers})
    return response.status, await response.json()


@pytest.mark.parametrize("path", ["/v1/track", "/v1/t"])
async def test_long_and_short_paths_take_one_message(client: TestClient, publisher: StandInPublisher, path: str) -> None:
    status, body = await post_json(client, path, sample("track_invoice_downloaded_analytics_js"))
    assert (status, body) == (200, {"success": True})
    assert publisher.submitted[0].events[0].event.value["name"] == "Invoice Downloaded"


async def test_the_path_names_the_call_even_when_type_is_absent(client: TestClient, publisher: StandInPublisher) -> None:
    message = {k: v for k, v in sample("page_analytics_js").items() if k != "type"}
    status, _ = await post_json(client, "/v1/p", message)
    assert status == 200
    assert publisher.submitted[0].events[0].event.value["kind"] == "WEB_PAGE"


async def test_analytics_js_text_plain_with_write_key_in_body(client: TestClient, publisher: StandInPublisher) -> None:
    message = {**sample("page_analytics_js"), "writeKey": WRITE_KEY}
    response = await client.post("/v1/p", data=json.dumps(message), headers={"Content-Type": "text/plain;charset=UTF-8"})
    assert response.status == 200
    assert publisher.submitted[0].dedupe_id == f"portal-web:{message['messageId']}"


async def test_the_write_key_selects_the_source(client: TestClient, publisher: StandInPublisher) -> None:
    headers = {"Authorization": "Basic " + base64.b64encode(b"wk-portal-app-77c1:").decode()}
    status, _ = await post_json(client, "/v1/screen", sample("screen_analytics_ios"), **headers)
    assert status == 200
    assert publisher.submitted[0].events[0].event.value["properties"]["source"] == "portal-app"


async def test_a_gzipped_batch_is_accepted(client: TestClient, publisher: StandInPublisher) -> None:
    body = gzip.compress(json.dumps(sample("batch_analytics_python")).encode())
    response = await client.post("/v1/batch", data=body, headers={**auth(), "Content-Encoding": "gzip"})
    assert response.status == 200
    assert len(publisher.submitted) == 3


async def test_batch_context_is_a_default_for_each_message(client: TestClient, publisher: StandInPublisher) -> None:
    batch = {"batch": [{"type": "track", "event": "Login", "userId": "u-1", "messageId": "m1"}],
             "context": {"page": {"url": "https://www.example-telecom.fr/connexion"}}}
    status, _ = await post_json(client, "/v1/batch", batch)
    assert status == 200
    assert publisher.submitted[0].events[0].event.value["properties"]["url"] == "https://www.example-telecom.fr/connexion"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [({}, "missing write key"), ({"Authorization": basic_auth("wk-nope")}, "unknown write key"),
     ({"Authorization": "Bearer abc"}, "Basic auth")],
)
async def test_bad_or_missing_write_key_is_401_and_not_dead_lettered(
    client: TestClient, publisher: StandInPublisher, headers: dict[str, str], reason: str
) -> None:
    response = await client.post("/v1/track", data=json.dumps(sample("track_invoice_downloaded_analytics_js")),
                                 headers={"Content-Type": "application/json", **headers})
    assert response.status == 401
    assert reason in (await response.json())["error"]
    assert publisher.submitted == [] and publisher.rejected == []


async def test_bad_json_with_a_valid_key_is_400_with_a_reason_and_dead_lettered(
    client: TestClient, publisher: StandInPublisher
) -> None:
    response = await client.post("/v1/batch", data=b'{"batch": [', headers=auth())
    assert response.status == 400
    assert "not valid JSON" in (await response.json())["error"]
    assert publisher.rejected[0][0].value == b'{"batch": ['


async def test_a_mixed_batch_names_each_rejected_message(client: TestClient, publisher: StandInPublisher) -> None:
    """Segment answers 200 unless the whole body is unreadable: its SDKs count a 4xx batch as lost."""
    good = sample("track_invoice_downloaded_analytics_js")
    batch = {"batch": [good, {"type": "track", "userId": "u-1", "messageId": "no-event"}, {"type": "shout", "userId": "u"}]}
    status, body = await post_json(client, "/v1/batch", batch)
    assert status == 200 and body["code"] == "invalid_messages"
    assert body["accepted"] == [{"index": 0, "messageId": good["messageId"]}] and body["duplicates"] == 0
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [(1, "missing_event"), (2, "unknown_type")]
    assert body["message"] == body["error"]  # the Segment SDKs log "message"
    assert [json.loads(raw.value)["messageId"] for raw, _ in publisher.rejected[:1]] == ["no-event"]
    assert len(publisher.submitted) == 1


async def test_an_event_over_32_kb_in_a_batch_is_rejected_alone(client: TestClient, publisher: StandInPublisher) -> None:
    big = {"type": "track", "event": "Big", "userId": "u-1", "messageId": "big", "properties": {"blob": "x" * MAX_EVENT_BYTES}}
    status, body = await post_json(client, "/v1/batch", {"batch": [big, sample("page_analytics_js")]})
    assert status == 200 and body["rejected"][0]["code"] == "too_large"
    assert len(publisher.submitted) == 1


async def test_a_single_call_over_32_kb_is_413(client: TestClient) -> None:
    big = {"type": "track", "event": "Big", "userId": "u-1", "properties": {"blob": "x" * MAX_EVENT_BYTES}}
    status, body = await post_json(client, "/v1/track", big)
    assert status == 413 and "exceeds" in body["error"]


async def test_a_batch_over_500_kb_is_413(client: TestClient) -> None:
    messages = [{"type": "track", "event": "E", "userId": "u", "properties": {"p": "x" * 20_000}} for _ in range(30)]
    status, _ = await post_json(client, "/v1/batch", {"batch": messages})
    assert status == 413


async def test_an_unsupported_media_type_is_415(client: TestClient) -> None:
    response = await client.post("/v1/track", data=b"a=b", headers={**auth(), "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 415


async def test_kafka_not_acknowledging_is_503_with_retry_after(client: TestClient, publisher: StandInPublisher) -> None:
    publisher.failure = Unavailable("events not acknowledged by Kafka", retry_after_s=9)
    response = await client.post("/v1/track", data=json.dumps(sample("track_invoice_downloaded_analytics_js")), headers=auth())
    assert response.status == 503 and response.headers["Retry-After"] == "9"


async def test_cors_preflight_and_response_headers(client: TestClient) -> None:
    origin = "https://www.example-telecom.fr"
    preflight = await client.options("/v1/t", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
    })
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    response = await client.post("/v1/t", data=json.dumps({**sample("page_analytics_js"), "writeKey": WRITE_KEY}),
                                  headers={"Origin": origin, "Content-Type": "text/plain"})
    assert response.headers["Access-Control-Allow-Origin"] == origin
    stranger = await client.options("/v1/t", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers


async def test_openapi_describes_every_path(client: TestClient) -> None:
    spec = await (await client.get("/openapi.json")).json()
    for path in ("/v1/identify", "/v1/i", "/v1/track", "/v1/t", "/v1/page", "/v1/p", "/v1/screen", "/v1/s",
                 "/v1/group", "/v1/g", "/v1/alias", "/v1/a", "/v1/batch"):
        assert "post" in spec["paths"][path], path


def test_an_adapter_without_write_keys_refuses_to_start() -> None:
    settings = web_settings(write_keys={})
    with pytest.raises(WebConfigError):
        WebIngress(settings, StandInPublisher(), SegmentMapper(settings, TopicSettings()))  # type: ignore[arg-type]


async def test_an_identifier_left_off_an_accepted_message_is_named_in_the_answer(
    client: TestClient, publisher: StandInPublisher
) -> None:
    """tester9 #5: an identify with a bad e-mail and phone was answered a plain success; the answer now lists
    what was left off (never the values) and stays a 200 success the Segment SDKs accept."""
    message = sample("identify_analytics_python")
    message["traits"] = {"email": "not-an-email", "phone": "12", "accountNumber": "ACC-0042-7781"}
    status, answer = await post_json(client, "/v1/identify", message)
    assert status == 200 and answer["success"] is True
    kinds = sorted((d["kind"], d["code"]) for d in answer["dropped_identifiers"])
    assert kinds == [("EMAIL", "email-syntax"), ("PHONE", "phone-invalid")]
    assert {d["messageId"] for d in answer["dropped_identifiers"]} == {message["messageId"]}
    assert "not-an-email" not in json.dumps(answer)
    assert len(publisher.submitted) == 1


async def test_a_message_with_good_identifiers_gets_the_plain_answer(client: TestClient) -> None:
    message = sample("identify_analytics_python")
    message["traits"] = {"email": "marie@example.fr", "phone": "+33 6 12 34 56 78"}
    assert await post_json(client, "/v1/identify", message) == (200, {"success": True})


def test_the_openapi_of_the_web_and_call_center_answers_describes_dropped_identifiers() -> None:
    from adapters.call_center.openapi import OPENAPI as CALL_CENTER
    from adapters.web.openapi import OPENAPI as WEB

    web_answer = WEB["components"]["schemas"]["Error"]["properties"]["dropped_identifiers"]
    assert set(web_answer["items"]["properties"]) == {"index", "messageId", "kind", "code", "reason"}
    ctr_answer = CALL_CENTER["paths"]["/v1/connect/ctr"]["post"]["responses"]["200"]["content"]["application/json"]
    assert "dropped_identifiers" in ctr_answer["schema"]["properties"]


async def test_tester25_f7_a_typed_account_number_is_named_in_the_answer_and_the_message_flows(
    client: TestClient, publisher: StandInPublisher
) -> None:
    """Mallory's identify answered a plain {"success": true} while his typed account joined Carla's record: the
    account is no longer read, and the answer says so (the trait, never the value)."""
    message = {"type": "identify", "messageId": "t25-id-mallory", "userId": "t25-mallory",
               "traits": {"email": "mallory.t25@example.org", "accountNumber": "ACC-T25-0004"}}
    status, answer = await post_json(client, "/v1/identify", message)
    assert status == 200 and answer["success"] is True
    assert [(d["messageId"], d["trait"]) for d in answer["dropped_traits"]] == [("t25-id-mallory", "accountNumber")]
    assert "visitor's claim" in answer["dropped_traits"][0]["reason"] and "ACC-T25" not in json.dumps(answer)
    assert len(publisher.submitted) == 1


async def test_tester29_f9_a_typed_national_id_is_named_in_the_answer_and_the_message_flows(
    client: TestClient, publisher: StandInPublisher
) -> None:
    """F9: the intruder's identify with Carmen's DNI answered 200 while his login, e-mail and phone joined her master
    record: the DNI is no longer read by default, and the answer names the trait and why (never the value)."""
    message = {"type": "identify", "messageId": "t29-id-intruso", "userId": "u-intruso-001",
               "traits": {"email": "intruso@example.es", "nationalId": "51234567C", "phone": "+34 622 001 222"}}
    status, answer = await post_json(client, "/v1/identify", message)
    assert status == 200 and answer["success"] is True
    assert [(d["messageId"], d["trait"]) for d in answer["dropped_traits"]] == [("t29-id-intruso", "nationalId")]
    reason = answer["dropped_traits"][0]["reason"]
    assert "a national ID (NATIONAL_ID) typed in a web form is the visitor's claim" in reason
    assert "IDENTIFIER_TRAITS" in reason and "51234567" not in json.dumps(answer)
    assert len(publisher.submitted) == 1


async def test_tester18_f9_a_trait_left_off_an_accepted_message_is_named_in_the_answer(
    client: TestClient, publisher: StandInPublisher
) -> None:
    """A bad birth date and digits in a name were dropped silently: the answer names the keys and why, never the
    values, and the message still flows."""
    message = sample("identify_analytics_python")
    message["traits"] = {"firstName": "Cath3rine", "lastName": "Durand", "birthday": "31/02/1980"}
    status, answer = await post_json(client, "/v1/identify", message)
    assert status == 200 and answer["success"] is True
    dropped = {d["trait"]: d["reason"] for d in answer["dropped_traits"]}
    assert set(dropped) == {"given_name", "birth_date"} and "digits" in dropped["given_name"]
    assert {d["messageId"] for d in answer["dropped_traits"]} == {message["messageId"]}
    assert "Cath3rine" not in json.dumps(answer) and "31/02/1980" not in json.dumps(answer)
    assert len(publisher.submitted) == 1


async def test_tester19_f8_the_answer_through_the_real_publisher_lists_the_dropped_trait() -> None:
    """The stand-in publisher kept the mapped record as it was; the real one rebuilt it without dropped_traits."""
    settings = web_settings()
    ingress = WebIngress(settings, real_publisher("web-f8"), SegmentMapper(settings, TopicSettings()))
    message = sample("identify_analytics_python")
    message["traits"] = {"firstName": "Marie", "birthday": "31/02/1985"}
    async with adapter_client(ingress.app()) as test_client:
        status, answer = await post_json(test_client, "/v1/identify", message)
    assert status == 200 and [d["trait"] for d in answer["dropped_traits"]] == ["birth_date"]


@pytest.mark.parametrize("birthday", ["31/02/1985", "1985-13-45", "3000-01-01"])
async def test_tester19_f8_every_bad_portal_birthday_is_named_in_the_answer(
    client: TestClient, publisher: StandInPublisher, birthday: str
) -> None:
    message = sample("identify_analytics_python")
    message["traits"] = {"firstName": "Marie", "birthday": birthday}
    status, answer = await post_json(client, "/v1/identify", message)
    assert status == 200 and [d["trait"] for d in answer["dropped_traits"]] == ["birth_date"]
    assert birthday not in json.dumps(answer)

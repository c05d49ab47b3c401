"""A web message refused only for its id, mapped again from its dead letter under a derived id (tester25 F3)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from adapters.web.errors import MessageRejected
from adapters.web.mapper import SegmentMapper
from adapters.web.reissue import NotReissuable, reissued
from bus.config import TopicSettings
from bus.errors import RawRecord
from tests.adapters.base.support import CountingKafka, DeadLetters
from tests.adapters.web.support import web_settings
from tests.adapters.web.test_ingress import post_json
from tests.adapters.web.test_ingress_id_conflict import case_request, replica

FAILED_AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CONTACT, CREATED = "omnibus.contact.InteractionRecorded", "omnibus.handoff.HandoffCreated"


def track(event: str, message_id: str = "t25-dup-1") -> dict[str, Any]:
    return {"userId": "t25-user-1", "messageId": message_id, "event": event, "properties": {"invoice": "F-2026-11"},
            "timestamp": "2026-12-02T08:59:00Z"}


@pytest.fixture
async def web() -> AsyncIterator[tuple[TestClient, CountingKafka, DeadLetters]]:
    async with AsyncExitStack() as stack:
        yield await replica(stack)


def headers(raw: RawRecord) -> dict[str, str]:
    return {name: value.decode() for name, value in raw.headers}


def mapper() -> SegmentMapper:
    return SegmentMapper(web_settings(), TopicSettings())


def values(events: Any, schema: str) -> list[dict[str, Any]]:
    return [e.event.value for e in events if e.event.schema == schema]


async def test_tester25_f3_a_message_refused_as_id_conflict_maps_again_under_a_new_message_id(
    web: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    """The sample: "Invoice Viewed" then "Payment Method Updated" under messageId t25-dup-1; the second one, refused
    (400 id_conflict), was only in its dead letter and ``redrive`` refused it. Mapped again from that dead letter it
    keeps its content under ``t25-dup-1:<digest>``, with event ids of its own; mapped twice, the same ids (a second
    re-issue publishes copies the processors drop)."""
    client, kafka, dead_letters = web
    assert (await post_json(client, "/v1/track", track("Invoice Viewed")))[0] == 200
    status, answer = await post_json(client, "/v1/track", track("Payment Method Updated"))
    assert (status, answer["code"]) == (400, "id_conflict")
    ((raw, error_type),) = dead_letters.records
    assert error_type == "RejectedInput.id_conflict"

    new_ids, record = reissued("id_conflict", raw.value, headers(raw), FAILED_AT, mapper())
    (contact,) = values(record.events, CONTACT)
    assert contact["name"] == "Payment Method Updated"
    assert new_ids["messageId"].startswith("t25-dup-1:") and len(new_ids["messageId"]) == len("t25-dup-1:") + 8
    # the suffix is the one the refused message's own contact id had: the digest of its content
    refused_contact_suffix = mapper()(track("Payment Method Updated"), source="portal-web",
                                      call="track").content_digest.hex()[:8]  # type: ignore[union-attr]
    assert new_ids["messageId"].endswith(refused_contact_suffix)
    first_ids = {e.event.value["envelope"]["event_id"] for e in kafka.events}
    new_event_ids = {e.event.value["envelope"]["event_id"] for e in record.events}
    assert not first_ids & new_event_ids
    _, again = reissued("id_conflict", raw.value, headers(raw), FAILED_AT, mapper())
    assert {e.event.value["envelope"]["event_id"] for e in again.events} == new_event_ids
    # and the web hall would take it: the new id is unused
    under_new_id = {**track("Payment Method Updated"), "messageId": new_ids["messageId"]}
    assert await post_json(client, "/v1/track", under_new_id) == (200, {"success": True})


async def test_a_batch_message_and_a_re_sent_refusal_map_to_the_same_new_ids(
    web: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    """A message refused inside a batch (its call type in its own "type", the path /v1/batch), refused twice (a
    re-send with a new sentAt): two dead letters, one new id and one set of event ids."""
    client, _, dead_letters = web
    assert (await post_json(client, "/v1/track", track("Invoice Viewed")))[0] == 200
    for sent_at in ("2026-12-02T09:00:01Z", "2026-12-02T09:00:09Z"):
        batch = {"batch": [{**track("Payment Method Updated"), "type": "track", "sentAt": sent_at}]}
        status, answer = await post_json(client, "/v1/batch", batch)
        assert status == 200 and answer["rejected"][0]["code"] == "id_conflict"
    mapped = [reissued("id_conflict", raw.value, headers(raw), FAILED_AT, mapper()) for raw, _ in dead_letters.records]
    assert len(mapped) == 2 and mapped[0][0] == mapped[1][0]
    assert ({e.event.value["envelope"]["event_id"] for e in mapped[0][1].events}
            == {e.event.value["envelope"]["event_id"] for e in mapped[1][1].events})


async def test_tester24_f17_a_request_refused_for_its_request_id_becomes_a_case_of_its_own(
    web: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    client, _, dead_letters = web
    assert (await post_json(client, "/v1/track", case_request("attempt 1", "m-req-1")))[0] == 200
    assert (await post_json(client, "/v1/track", case_request("attempt 2", "m-req-2")))[0] == 400
    ((raw, error_type),) = dead_letters.records
    new_ids, record = reissued(error_type.partition(".")[2], raw.value, headers(raw), FAILED_AT, mapper())
    assert set(new_ids) == {"messageId", "request_id"} and new_ids["request_id"].startswith("REQ-42:")
    (created,) = values(record.events, CREATED)
    assert created["handoff_id"] == new_ids["request_id"] and created["summary"] == "attempt 2"


def test_what_is_not_refused_for_its_id_or_not_a_web_message_is_not_reissued() -> None:
    message = b'{"userId": "u-1", "messageId": "m-1", "event": "Invoice Viewed"}'
    where = {"http.path": "/v1/track", "segment.source": "portal-web"}
    with pytest.raises(NotReissuable, match="for its content"):
        reissued("missing_event", message, where, FAILED_AT, mapper())
    with pytest.raises(NotReissuable, match="not a JSON message"):
        reissued("id_conflict", b"{not json", where, FAILED_AT, mapper())
    with pytest.raises(NotReissuable, match="write key's source"):
        reissued("id_conflict", message, {"http.path": "/v1/track"}, FAILED_AT, mapper())
    with pytest.raises(NotReissuable, match="no request_id or case_id"):
        reissued("request_id_conflict", message, where, FAILED_AT, mapper())
    # refused again by today's settings: an offer event without its offer id
    offer = b'{"userId": "u-1", "messageId": "m-1", "event": "Offer Viewed", "properties": {}}'
    with pytest.raises(MessageRejected):
        reissued("id_conflict", offer, where, FAILED_AT, mapper())


ONE_SUFFIX = re.compile(r"(?:web:portal-web:)?(?:tr-1|m-req-2):[0-9a-f]{8}")


async def _two_requests_under_one_message_id(client: TestClient) -> None:
    """A service request without a case id under messageId tr-1, then another under the same id: refused (400)."""
    request = case_request("attempt 1", "tr-1")
    del request["properties"]["request_id"]
    assert (await post_json(client, "/v1/track", request))[0] == 200
    other = {**request, "properties": {**request["properties"], "summary": "attempt 2"}}
    assert (await post_json(client, "/v1/track", other))[0] == 400


async def test_tester26_f10_every_id_derived_from_a_redriven_message_id_has_one_suffix(
    web: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    """A service request redriven with ``--new-id`` was opened as ``web:portal:tr-1:cd1a2a2e:b002737b``: its handoff,
    contact and interaction ids were derived from the already derived messageId. They derive from the original one
    once, and are still not the first request's."""
    client, kafka, dead_letters = web
    await _two_requests_under_one_message_id(client)
    (first,) = values(kafka.events, CREATED)
    ((raw, error_type),) = dead_letters.records
    _, record = reissued(error_type.partition(".")[2], raw.value, headers(raw), FAILED_AT, mapper())
    (created,) = values(record.events, CREATED)
    assert ONE_SUFFIX.fullmatch(created["handoff_id"]) and created["handoff_id"] != first["handoff_id"]
    assert created["summary"] == "attempt 2"
    assert ONE_SUFFIX.fullmatch(created["origin_interaction_id"]), created["origin_interaction_id"]
    for contact in values(record.events, CONTACT):
        assert ONE_SUFFIX.fullmatch(contact["interaction_id"]), contact["interaction_id"]


async def test_tester26_f10_a_request_redriven_for_its_request_id_has_ids_with_one_suffix(
    web: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    client, _, dead_letters = web
    assert (await post_json(client, "/v1/track", case_request("attempt 1", "m-req-1")))[0] == 200
    assert (await post_json(client, "/v1/track", case_request("attempt 2", "m-req-2")))[0] == 400
    ((raw, error_type),) = dead_letters.records
    _, record = reissued(error_type.partition(".")[2], raw.value, headers(raw), FAILED_AT, mapper())
    (created,) = values(record.events, CREATED)
    assert re.fullmatch(r"REQ-42:[0-9a-f]{8}", created["handoff_id"])
    assert ONE_SUFFIX.fullmatch(created["origin_interaction_id"]), created["origin_interaction_id"]


def _suffix(any_id: str) -> str:
    return any_id.rsplit(":", 1)[-1]


async def test_tester27_f5_the_printed_ids_are_those_of_the_case_and_contact_a_redriven_request_opens(
    web: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    """``redrive --new-id`` printed ``as messageId tr-1:<8 hex>``, and the case it opened ended with other 8 hex: its
    ids derived from the digest of the message with its new messageId. They end with the printed one's now, and the
    printed ids name the case."""
    client, _, dead_letters = web
    await _two_requests_under_one_message_id(client)
    ((raw, error_type),) = dead_letters.records
    new_ids, record = reissued(error_type.partition(".")[2], raw.value, headers(raw), FAILED_AT, mapper())
    (created,) = values(record.events, CREATED)
    assert new_ids == {"messageId": new_ids["messageId"], "handoff_id": created["handoff_id"]}
    suffix = _suffix(new_ids["messageId"])
    assert _suffix(created["handoff_id"]) == suffix and created["origin_interaction_id"] == new_ids["messageId"]
    assert [contact["interaction_id"] for contact in values(record.events, CONTACT)] == [new_ids["messageId"]]


@pytest.mark.parametrize("code", ["id_conflict", "request_id_conflict"])
async def test_tester27_f5_a_redriven_message_has_one_suffix_the_printed_messageids(
    web: tuple[TestClient, CountingKafka, DeadLetters], code: str
) -> None:
    client, _, dead_letters = web
    if code == "id_conflict":
        assert (await post_json(client, "/v1/track", track("Invoice Viewed")))[0] == 200
        assert (await post_json(client, "/v1/track", track("Payment Method Updated")))[0] == 400
    else:
        assert (await post_json(client, "/v1/track", case_request("attempt 1", "m-req-1")))[0] == 200
        assert (await post_json(client, "/v1/track", case_request("attempt 2", "m-req-2")))[0] == 400
    ((raw, error_type),) = dead_letters.records
    assert error_type == f"RejectedInput.{code}"
    new_ids, record = reissued(code, raw.value, headers(raw), FAILED_AT, mapper())
    suffix = _suffix(new_ids["messageId"])
    assert {_suffix(value) for value in new_ids.values()} == {suffix}
    for created in values(record.events, CREATED):
        assert created["handoff_id"] in new_ids.values() and _suffix(created["origin_interaction_id"]) == suffix
    assert {contact["interaction_id"] for contact in values(record.events, CONTACT)} == {new_ids["messageId"]}


async def test_a_message_refused_under_a_numeric_message_id_or_case_id_is_reissued_as_its_text(
    web: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    """A portal that sends its ids as numbers (the contract allows it) gets the same re-issue: the dead letter of a
    message refused under ``messageId: 31337`` was "not a web message with a messageId"; a request refused for its
    numeric ``request_id`` named "no request_id or case_id"."""
    client, _, dead_letters = web
    number: Any = 31337
    assert (await post_json(client, "/v1/track", track("Invoice Viewed", message_id=number)))[0] == 200
    assert (await post_json(client, "/v1/track", track("Payment Method Updated", message_id=number)))[0] == 400
    case: Any = 42
    assert (await post_json(client, "/v1/track", case_request("attempt 1", "m-num-1", case_id=case)))[0] == 200
    assert (await post_json(client, "/v1/track", case_request("attempt 2", "m-num-2", case_id=case)))[0] == 400
    (conflict, _), (request, request_error) = dead_letters.records
    new_ids, record = reissued("id_conflict", conflict.value, headers(conflict), FAILED_AT, mapper())
    assert new_ids["messageId"].startswith("31337:")
    # the same as the refused message spelled with text ids: one digest, one new id
    as_text = mapper()(track("Payment Method Updated", message_id="31337"), source="portal-web", call="track")
    assert as_text.content_digest is not None and new_ids["messageId"].endswith(as_text.content_digest.hex()[:8])
    (contact,) = values(record.events, CONTACT)
    assert contact["name"] == "Payment Method Updated"
    new_ids, record = reissued(request_error.partition(".")[2], request.value, headers(request), FAILED_AT, mapper())
    assert new_ids["request_id"].startswith("42:")
    (created,) = values(record.events, CREATED)
    assert created["handoff_id"] == new_ids["request_id"] and created["summary"] == "attempt 2"

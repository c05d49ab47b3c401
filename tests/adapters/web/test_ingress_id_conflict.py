"""A messageId reused for another event is refused (``id_conflict``), as the counter refuses a reused event_id; a
re-send of the same message, with a new ``sentAt`` or through a batch, is still a duplicate (tester22 F7: "Bill Paid"
under the messageId of an earlier "Bill Viewed" was dropped as a duplicate under a 200).

That refusal sees one process's dedupe store. With several replicas (``deploy/k8s``: two web pods behind one
Service) the other event may reach a replica that never saw the first: it is published there, and must not carry the
first one's event ids, or every processor drops it as a copy (F1)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from adapters.web.ingress import WebIngress
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.envelope import event_id
from tests.adapters.base.support import CountingKafka, DeadLetters, deduping_publisher, kept_by_event_id
from tests.adapters.web.support import web_settings
from tests.adapters.web.test_ingress import post_json
from tests.support.http import adapter_client


def track(event: str, **extra: Any) -> dict[str, Any]:
    return {"userId": "portal-luc", "messageId": "t22-dup1", "event": event, "properties": {"bill_id": "B-77"},
            **extra}


Replica = tuple[TestClient, CountingKafka, DeadLetters]


async def replica(stack: AsyncExitStack) -> Replica:
    """One web adapter process: the ingress with the real publisher and its own dedupe store, Kafka's side stood in
    for."""
    publisher, kafka, dead_letters = deduping_publisher("web")
    settings = web_settings()
    ingress = WebIngress(settings, publisher, SegmentMapper(settings, TopicSettings()))
    return await stack.enter_async_context(adapter_client(ingress.app())), kafka, dead_letters


@pytest.fixture
async def deduping() -> AsyncIterator[Replica]:
    async with AsyncExitStack() as stack:
        yield await replica(stack)


@pytest.fixture
async def two_replicas() -> AsyncIterator[tuple[Replica, Replica]]:
    """Two web adapter processes, each with its own dedupe store, as two pods behind one Service."""
    async with AsyncExitStack() as stack:
        yield await replica(stack), await replica(stack)


def interactions(kept: dict[tuple[str, str], Any]) -> list[str]:
    """The names of the InteractionRecorded events a subscriber keeps."""
    return sorted(o.event.value["name"] for o in kept.values() if o.event.schema.endswith("InteractionRecorded"))


async def test_another_event_under_a_used_message_id_is_refused_and_dead_lettered(
    deduping: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    client, kafka, dead_letters = deduping
    assert await post_json(client, "/v1/track", track("Bill Viewed")) == (200, {"success": True})
    published = len(kafka.published)
    status, answer = await post_json(client, "/v1/track", track("Bill Paid"))
    assert (status, answer["code"]) == (400, "id_conflict")
    assert "'portal-web:t22-dup1' was already published with other content" in answer["error"]
    assert len(kafka.published) == published and len(dead_letters.reasons) == 1

    # in a batch, Segment's answer: 200 with the refusal listed (400 with strict_batches)
    status, answer = await post_json(client, "/v1/batch", {"batch": [{**track("Bill Paid"), "type": "track"}]})
    assert (status, [r["code"] for r in answer["rejected"]]) == (200, ["id_conflict"])
    assert len(kafka.published) == published and len(dead_letters.reasons) == 2


async def test_a_resent_message_is_a_duplicate_whatever_its_send_time_and_path(
    deduping: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    client, kafka, dead_letters = deduping
    first = track("Bill Viewed", sentAt="2026-12-02T07:00:00.000Z")
    assert await post_json(client, "/v1/track", first) == (200, {"success": True})
    published = len(kafka.published)
    again = {**track("Bill Viewed", sentAt="2026-12-02T07:00:05.000Z", _metadata={"bundled": ["Segment.io"]}),
             "type": "track"}
    assert await post_json(client, "/v1/t", again) == (200, {"success": True, "duplicates": 1})
    assert await post_json(client, "/v1/batch", {"batch": [again]}) == (200, {"success": True, "duplicates": 1})
    assert len(kafka.published) == published and not dead_letters.reasons


async def test_a_batch_answer_names_accepted_and_rejected_messages_by_index_and_counts_the_duplicates(
    deduping: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    """tester25 F3, its sample: a batch of a new message, another event under that messageId and a re-send of an
    earlier message was answered ``"accepted": ["t25-dup-2", "t25-dup-1"]`` beside ``"rejected": [{"index": 1,
    "messageId": "t25-dup-2"}]`` (the same messageId accepted and rejected) and said nothing of the re-send."""
    client, kafka, dead_letters = deduping
    earlier = {**track("Invoice Viewed", messageId="t25-dup-1"), "type": "track"}
    assert await post_json(client, "/v1/track", earlier) == (200, {"success": True})
    new = {**track("Invoice Downloaded", messageId="t25-dup-2"), "type": "track"}
    other = {**track("Payment Method Updated", messageId="t25-dup-2"), "type": "track"}
    status, answer = await post_json(client, "/v1/batch", {"batch": [new, other, earlier]})
    assert status == 200 and answer["duplicates"] == 1
    assert answer["accepted"] == [{"index": 0, "messageId": "t25-dup-2"}, {"index": 2, "messageId": "t25-dup-1"}]
    assert [(r["index"], r["messageId"], r["code"]) for r in answer["rejected"]] == [(1, "t25-dup-2", "id_conflict")]
    accepted = {a["index"] for a in answer["accepted"]}
    assert not accepted & {r["index"] for r in answer["rejected"]}
    assert len(dead_letters.reasons) == 1

    # a batch of re-sends only: Segment's 200, with the count
    status, answer = await post_json(client, "/v1/batch", {"batch": [new, earlier]})
    assert (status, answer) == (200, {"success": True, "duplicates": 2})


async def test_f1_another_event_under_a_used_message_id_on_another_replica_is_kept_downstream(
    two_replicas: tuple[Replica, Replica]
) -> None:
    """The tester's case: "Bill Viewed" through one replica, "Bill Paid" under its messageId through the other. The
    other replica never saw the id, so it publishes (200, as Segment answers): under event ids of its own, so a
    subscriber deduping on event_id keeps both."""
    (first, first_kafka, _), (second, second_kafka, second_dead) = two_replicas
    assert await post_json(first, "/v1/track", track("Bill Viewed")) == (200, {"success": True})
    assert await post_json(second, "/v1/track", track("Bill Paid")) == (200, {"success": True})
    assert not second_dead.reasons
    assert interactions(kept_by_event_id(first_kafka, second_kafka)) == ["Bill Paid", "Bill Viewed"]
    # the same on one replica stays refused (the early answer): the sender learns of its bug when it can be told
    status, answer = await post_json(first, "/v1/track", track("Bill Paid"))
    assert (status, answer["code"]) == (400, "id_conflict")


async def test_f1_a_resend_through_another_replica_keeps_its_event_ids_and_is_dropped_downstream(
    two_replicas: tuple[Replica, Replica]
) -> None:
    """A true re-send (a new ``sentAt``, another path) that reaches the other replica is published again, with the
    same event ids: subscribers drop it as before, whatever the call type it went by."""
    (first, first_kafka, _), (second, second_kafka, _) = two_replicas
    message = {**track("Bill Viewed", sentAt="2026-12-02T07:00:00.000Z"), "type": "track"}
    assert await post_json(first, "/v1/track", message) == (200, {"success": True})
    again = {**message, "sentAt": "2026-12-02T07:00:09.000Z", "_metadata": {"bundled": ["Segment.io"]}}
    assert await post_json(second, "/v1/batch", {"batch": [again]}) == (200, {"success": True})
    assert len(second_kafka.events) == len(first_kafka.events) > 0
    kept = kept_by_event_id(first_kafka, second_kafka)
    assert len(kept) == len(first_kafka.events) and interactions(kept) == ["Bill Viewed"]


@pytest.mark.parametrize("call", ["identify", "page", "screen", "group", "alias"])
async def test_f1_every_call_type_under_a_reused_message_id_keeps_its_events_downstream(
    two_replicas: tuple[Replica, Replica], call: str
) -> None:
    """Not only tracks: whatever call a reused messageId carries on the other replica (other traits on an identify,
    another page), its events have ids of their own."""
    (first, first_kafka, _), (second, second_kafka, _) = two_replicas
    base = {"userId": "portal-luc", "messageId": f"t-f1-{call}", "groupId": "g-1", "previousId": "anon-1",
            "name": "Bills"}
    other = {**base, "traits": {"plan": "gold"}, "name": "Payments", "groupId": "g-2", "previousId": "anon-2"}
    assert (await post_json(first, f"/v1/{call}", base))[0] == 200
    assert (await post_json(second, f"/v1/{call}", other))[0] == 200
    first_ids = {o.event.value["envelope"]["event_id"] for o in first_kafka.events}
    second_ids = {o.event.value["envelope"]["event_id"] for o in second_kafka.events}
    assert first_ids and second_ids and not first_ids & second_ids


def test_the_digest_a_dedupe_file_holds_is_the_one_ids_derive_from_and_did_not_change() -> None:
    """The mapper digests a message as the ingress did before F1 (pinned: the value a dedupe file written then holds,
    so its ids still answer re-sends as duplicates and other events as conflicts), and its event ids name it."""
    settings = web_settings()
    message = {**track("Bill Viewed", sentAt="2026-12-02T07:00:00.000Z"), "type": "track"}
    record = SegmentMapper(settings, TopicSettings())(message, source="portal-web")
    assert record.content_digest is not None
    assert record.content_digest.hex() == "b119d09e228eb24556c8e6838f514064c0bb88c3e4855a5be20ff87b8a90f469"
    (interaction,) = record.events
    assert interaction.event.value["envelope"]["event_id"] == event_id(
        settings.source_system, "t22-dup1", "portal-web/interaction", record.content_digest)


# -- the business ids built from a messageId: a handoff's, an offer presentation's (F1's kind) ----------------------


def service_request(summary: str, message_id: str = "t-f1-req", **properties: Any) -> dict[str, Any]:
    """A service request the portal sent without a case id of its own: the adapter names the handoff."""
    return {"userId": "portal-luc", "messageId": message_id, "event": "Service Request Submitted",
            "properties": {"case_type": "billing-dispute", "summary": summary, **properties}}


def offer_viewed(offer_id: str, message_id: str = "t-f1-offer") -> dict[str, Any]:
    return {"userId": "portal-luc", "messageId": message_id, "event": "Offer Viewed",
            "properties": {"offer_id": offer_id, "offer_version": "1"}}


def kept_values(kept: dict[tuple[str, str], Any], schema: str) -> list[dict[str, Any]]:
    return [o.event.value for o in kept.values() if o.event.schema == schema]


CREATED = "omnibus.handoff.HandoffCreated"
INTERACTION = "omnibus.contact.InteractionRecorded"
PRESENTED = "omnibus.marketing.OfferPresented"


async def test_f1_two_service_requests_under_a_reused_message_id_on_two_replicas_are_two_handoffs(
    two_replicas: tuple[Replica, Replica]
) -> None:
    """Two customer requests under one messageId, each through its own replica: two HandoffCreated with event ids of
    their own, and two handoff ids, so the tracker opens both (one id made it refuse the second: "a handoff with this
    id already exists"). Each id stays readable: the messageId's form and a short digest of the request."""
    (first, first_kafka, _), (second, second_kafka, _) = two_replicas
    assert await post_json(first, "/v1/track", service_request("Bill charged twice")) == (200, {"success": True})
    assert await post_json(second, "/v1/track", service_request("Meter not read")) == (200, {"success": True})
    created = kept_values(kept_by_event_id(first_kafka, second_kafka), CREATED)
    assert sorted(v["summary"] for v in created) == ["Bill charged twice", "Meter not read"]
    ids = {v["handoff_id"] for v in created}
    assert len(ids) == 2 and all(re.fullmatch(r"web:portal-web:t-f1-req:[0-9a-f]{8}", i) for i in ids)
    # the handoff topic is keyed by the handoff id: each case on its own key
    assert {o.key for k in (first_kafka, second_kafka) for o in k.events if o.event.schema == CREATED} == ids
    # each names the contact it was opened during: its own
    kept = kept_by_event_id(first_kafka, second_kafka)
    contacts = {v["interaction_id"] for v in kept_values(kept, INTERACTION)}
    assert {v["origin_interaction_id"] for v in created} == contacts and len(contacts) == 2


async def test_f1_two_offers_under_a_reused_message_id_on_two_replicas_are_two_presentations(
    two_replicas: tuple[Replica, Replica]
) -> None:
    (first, first_kafka, _), (second, second_kafka, _) = two_replicas
    assert await post_json(first, "/v1/track", offer_viewed("FIBRE-1G")) == (200, {"success": True})
    assert await post_json(second, "/v1/track", offer_viewed("TV-PACK")) == (200, {"success": True})
    presented = kept_values(kept_by_event_id(first_kafka, second_kafka), PRESENTED)
    assert sorted(v["offer_id"] for v in presented) == ["FIBRE-1G", "TV-PACK"]
    assert len({v["presentation_id"] for v in presented}) == 2
    assert all(re.fullmatch(r"web:portal-web:t-f1-offer:[0-9a-f]{8}", v["presentation_id"]) for v in presented)


async def test_f1_two_tracks_under_a_reused_message_id_on_two_replicas_are_two_contacts(
    two_replicas: tuple[Replica, Replica]
) -> None:
    """The tester's "Bill Viewed" and "Bill Paid" are two contacts, not two versions of one: readers that keep one
    contact per ``interaction_id`` (the KPIs' contact counts, the screen pop's recent contacts) keep both. The contact
    id is the messageId and the digest's 8 hex digits."""
    (first, first_kafka, _), (second, second_kafka, _) = two_replicas
    assert await post_json(first, "/v1/track", track("Bill Viewed")) == (200, {"success": True})
    assert await post_json(second, "/v1/track", track("Bill Paid")) == (200, {"success": True})
    contacts = {v["name"]: v["interaction_id"] for v in kept_values(kept_by_event_id(first_kafka, second_kafka),
                                                                     INTERACTION)}
    assert len(set(contacts.values())) == 2
    assert all(re.fullmatch(r"t22-dup1:[0-9a-f]{8}", contact) for contact in contacts.values())


@pytest.mark.parametrize(("message", "schema", "field"), [
    (service_request("Bill charged twice"), CREATED, "handoff_id"),
    (offer_viewed("FIBRE-1G"), PRESENTED, "presentation_id"),
    (track("Bill Viewed"), INTERACTION, "interaction_id"),
])
async def test_f1_a_resend_through_another_replica_keeps_its_handoff_presentation_and_contact_id(
    two_replicas: tuple[Replica, Replica], message: dict[str, Any], schema: str, field: str
) -> None:
    """A true re-send (a new ``sentAt``, ``_metadata``, through a batch) on the other replica names the same handoff
    or presentation and the same contact, under the same event id: subscribers drop it, the tracker opens no second
    case."""
    (first, first_kafka, _), (second, second_kafka, _) = two_replicas
    sent = {**message, "type": "track", "sentAt": "2026-12-02T07:00:00.000Z"}
    assert await post_json(first, "/v1/track", sent) == (200, {"success": True})
    again = {**sent, "sentAt": "2026-12-02T07:00:09.000Z", "_metadata": {"bundled": ["Segment.io"]}}
    assert await post_json(second, "/v1/batch", {"batch": [again]}) == (200, {"success": True})
    (one,), (other,) = ([o.event.value for o in k.events if o.event.schema == schema]
                        for k in (first_kafka, second_kafka))
    assert other[field] == one[field] and other["envelope"]["event_id"] == one["envelope"]["event_id"]
    assert len(kept_values(kept_by_event_id(first_kafka, second_kafka), schema)) == 1


async def test_a_case_id_the_portal_gave_is_the_handoff_id_as_it_is(two_replicas: tuple[Replica, Replica]) -> None:
    """The portal's own ``request_id`` / ``case_id`` names the handoff unchanged, on any replica: the same case
    reported twice is one handoff (the tracker refuses the second creation with the reason, a dead letter)."""
    (first, first_kafka, _), (second, second_kafka, _) = two_replicas
    assert (await post_json(first, "/v1/track", service_request("Bill charged twice", request_id="SR-1001")))[0] == 200
    assert (await post_json(second, "/v1/track", service_request("Bill charged twice, again", message_id="t-f1-2",
                                                                 case_id="SR-1001")))[0] == 200
    created = kept_values(kept_by_event_id(first_kafka, second_kafka), CREATED)
    assert [v["handoff_id"] for v in created] == ["SR-1001", "SR-1001"]


# -- a service request's own case id (request_id / case_id) reused for another request: tester24 F17 -----------------


def case_request(summary: str, message_id: str, case_field: str = "request_id", case_id: str = "REQ-42",
                 user_id: str = "web-claire") -> dict[str, Any]:
    return {"userId": user_id, "messageId": message_id, "event": "Service Request Submitted",
            "properties": {"category": "billing-dispute", case_field: case_id, "summary": summary}}


async def test_f17_another_request_under_a_used_request_id_is_refused_not_answered_200(
    deduping: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    """tester24 F17, its sample: m-req-1 and m-req-2 with request_id REQ-42, summaries "attempt 1" / "attempt 2",
    were both answered 200 and counted HANDED_OFF while the tracker dead-lettered the second (duplicate_creation):
    its text reached the back office only as a dead letter. Now the second is refused where it can be told, as a
    reused messageId is: 400, dead-lettered whole (contact and handoff), and ``redrive --new-id`` can publish it."""
    client, kafka, dead_letters = deduping
    assert await post_json(client, "/v1/track", case_request("attempt 1", "m-req-1")) == (200, {"success": True})
    published = len(kafka.published)
    status, answer = await post_json(client, "/v1/track", case_request("attempt 2", "m-req-2"))
    assert (status, answer["code"]) == (400, "request_id_conflict")
    assert "properties.request_id 'REQ-42' was already used for another service request" in answer["error"]
    assert len(kafka.published) == published  # neither its contact (HANDED_OFF) nor its handoff
    assert [error_type for _, error_type in dead_letters.records] == ["RejectedInput.request_id_conflict"]

    # the same request again under a new messageId (a form sent twice) is the one case: published as before
    assert await post_json(client, "/v1/track", case_request("attempt 1", "m-req-3")) == (200, {"success": True})
    # and a re-send of the first message stays a duplicate
    assert await post_json(client, "/v1/track", case_request("attempt 1", "m-req-1")) == (
        200, {"success": True, "duplicates": 1})


@pytest.mark.parametrize("case_field", ["request_id", "case_id"])
async def test_f17_every_way_a_case_id_is_reused_for_another_request_is_refused(
    deduping: tuple[TestClient, CountingKafka, DeadLetters], case_field: str
) -> None:
    """The rest of the kind: under ``case_id`` as under ``request_id``; another customer's request under the same
    id; another request in the same batch; and, in a batch, the good messages still published."""
    client, kafka, dead_letters = deduping
    first = case_request("attempt 1", "m-1", case_field, "C-7")
    assert (await post_json(client, "/v1/track", first))[0] == 200
    someone_else = case_request("attempt 1", "m-2", case_field, "C-7", user_id="web-paul")
    status, answer = await post_json(client, "/v1/track", someone_else)
    assert (status, answer["code"]) == (400, "request_id_conflict") and f"properties.{case_field}" in answer["error"]

    batch = [{**case_request("new case", "m-3", case_field, "C-8"), "type": "track"},
             {**case_request("other text", "m-4", case_field, "C-8"), "type": "track"},
             {**track("Bill Viewed", messageId="m-5"), "type": "track"}]
    status, answer = await post_json(client, "/v1/batch", {"batch": batch})
    assert status == 200 and [(a["index"]) for a in answer["accepted"]] == [0, 2]
    assert [(r["index"], r["code"]) for r in answer["rejected"]] == [(1, "request_id_conflict")]
    assert len(dead_letters.records) == 2


async def test_f17_a_request_without_a_case_id_of_its_own_claims_nothing(
    deduping: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    """Two requests without request_id/case_id are two cases named by their messageIds: nothing to refuse."""
    client, _, dead_letters = deduping
    assert (await post_json(client, "/v1/track", service_request("Bill charged twice", "m-a")))[0] == 200
    assert (await post_json(client, "/v1/track", service_request("Meter not read", "m-b")))[0] == 200
    assert not dead_letters.records


# -- an id re-sent in its other spelling, number or text (tester48 F4) ------------------------------------------------


async def test_tester48_f4_a_message_re_sent_with_its_message_id_as_text_is_a_duplicate(
    deduping: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    """The sample: ``messageId: 424242``, then the same track with ``messageId: "424242"``, was answered 400 ``id
    ... was already published with other content`` and dead-lettered; the contract says a whole number is taken as
    its decimal text and a re-send under the id is a duplicate."""
    client, kafka, dead_letters = deduping
    first = track("Bill Viewed", messageId=424242)
    assert await post_json(client, "/v1/track", first) == (200, {"success": True})
    published = len(kafka.published)
    again = track("Bill Viewed", messageId="424242")
    assert await post_json(client, "/v1/track", again) == (200, {"success": True, "duplicates": 1})
    assert await post_json(client, "/v1/track", first) == (200, {"success": True, "duplicates": 1})
    assert len(kafka.published) == published and not dead_letters.reasons
    # another event under it is still another event, in either spelling
    status, answer = await post_json(client, "/v1/track", track("Bill Paid", messageId="424242"))
    assert (status, answer["code"]) == (400, "id_conflict")


@pytest.mark.parametrize(("field", "number", "text"), [
    ("userId", 770002, "770002"), ("userId", 770002.0, "770002"), ("anonymousId", 9001, "9001"),
    ("event", 12, "12"), ("messageId", 5.0, "5"),
])
async def test_every_id_of_a_message_in_its_other_spelling_is_the_same_message(
    deduping: tuple[TestClient, CountingKafka, DeadLetters], field: str, number: object, text: str
) -> None:
    """Not only the messageId: a re-send whose userId, anonymousId or event name is spelled as text where the first
    spelled it as a number (or as a double with no fraction, ``770002.0``), or the other way round, is a duplicate,
    through a single call or a batch."""
    client, kafka, dead_letters = deduping
    message = {**track("Bill Viewed", messageId=f"t48-{field}-{text}"), field: number}
    assert await post_json(client, "/v1/track", message) == (200, {"success": True})
    published = len(kafka.published)
    again = {**message, field: text, "type": "track"}
    assert await post_json(client, "/v1/track", again) == (200, {"success": True, "duplicates": 1})
    assert await post_json(client, "/v1/batch", {"batch": [again]}) == (200, {"success": True, "duplicates": 1})
    assert len(kafka.published) == published and not dead_letters.reasons


@pytest.mark.parametrize(("call", "field"), [("group", "groupId"), ("alias", "previousId"), ("page", "name"),
                                             ("screen", "name")])
async def test_every_call_type_re_sent_with_its_own_id_in_the_other_spelling_is_a_duplicate(
    deduping: tuple[TestClient, CountingKafka, DeadLetters], call: str, field: str
) -> None:
    client, kafka, dead_letters = deduping
    message = {"userId": "portal-luc", "messageId": f"t48-{call}", "groupId": "g-1", "previousId": "anon-1",
               field: 31337}
    assert await post_json(client, f"/v1/{call}", message) == (200, {"success": True})
    published = len(kafka.published)
    assert await post_json(client, f"/v1/{call}", {**message, field: "31337"}) == (
        200, {"success": True, "duplicates": 1})
    assert len(kafka.published) == published and not dead_letters.reasons


@pytest.mark.parametrize("field", ["request_id", "case_id"])
async def test_a_service_request_re_sent_with_its_case_id_in_the_other_spelling_is_a_duplicate(
    deduping: tuple[TestClient, CountingKafka, DeadLetters], field: str
) -> None:
    client, kafka, dead_letters = deduping
    number: Any = 4242
    first = case_request("my bill is wrong", "t48-req", case_field=field, case_id=number)
    assert await post_json(client, "/v1/track", first) == (200, {"success": True})
    published = len(kafka.published)
    again = case_request("my bill is wrong", "t48-req", case_field=field, case_id="4242")
    assert await post_json(client, "/v1/track", again) == (200, {"success": True, "duplicates": 1})
    assert len(kafka.published) == published and not dead_letters.reasons


async def test_a_message_without_a_message_id_re_sent_with_its_user_id_as_text_is_published_once(
    deduping: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    client, kafka, _ = deduping
    message = {"userId": 770002, "event": "Bill Viewed", "timestamp": "2026-12-02T07:00:00Z"}
    assert await post_json(client, "/v1/track", message) == (200, {"success": True})
    published = len(kafka.published)
    assert await post_json(client, "/v1/track", {**message, "userId": "770002"}) == (
        200, {"success": True, "duplicates": 1})
    assert len(kafka.published) == published


async def test_a_numeric_message_id_is_echoed_as_the_text_it_is_read_as(
    deduping: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    client, _, _ = deduping
    batch = {"batch": [{**track("Bill Viewed", messageId=424243), "type": "track"},
                       {**track("Bill Viewed", messageId=424244.0), "type": "track", "userId": 1.5}]}
    status, answer = await post_json(client, "/v1/batch", batch)
    assert status == 200 and answer["accepted"] == [{"index": 0, "messageId": "424243"}]
    assert [(r["messageId"], r["code"]) for r in answer["rejected"]] == [("424244", "bad_field")]


async def test_an_id_of_more_digits_than_the_contract_allows_refuses_its_message_only(
    deduping: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    """tester48 F4: a 300-digit userId, valid by the schema served then, was refused; the contract now says at most 40
    digits (``exclusiveMaximum``), and the adapter refuses such a message alone, as the contract says."""
    client, _, dead_letters = deduping
    batch = {"batch": [{**track("Bill Viewed", messageId="t48-long"), "type": "track", "userId": 10**40},
                       {**track("Bill Viewed", messageId="t48-short"), "type": "track",
                        "userId": 7302918465120938475610293847561029384756}]}  # 40 digits
    status, answer = await post_json(client, "/v1/batch", batch)
    assert status == 200 and answer["accepted"] == [{"index": 1, "messageId": "t48-short"}]
    assert [(r["index"], r["code"]) for r in answer["rejected"]] == [(0, "bad_number")]
    assert "at most 40" in answer["rejected"][0]["reason"] and len(dead_letters.reasons) == 1


@pytest.mark.parametrize(("field", "padded", "read"), [
    ("messageId", " t51-m1", "t51-m1"), ("userId", " portal-luc", "portal-luc"), ("anonymousId", "a-9 ", "a-9"),
    ("userId", " 770002", 770002),
])
async def test_an_id_with_white_space_around_it_and_the_same_id_without_are_one_message(
    deduping: tuple[TestClient, CountingKafka, DeadLetters], field: str, padded: str, read: object
) -> None:
    """The counter's sample (tester51 F5) on the web: an id is read without its surrounding spaces, but the content was
    digested with them, so a re-send without them was an id_conflict. One reading (``whole_ids.id_text``) for both."""
    client, kafka, dead_letters = deduping
    message = {**track("Bill Viewed", messageId=f"t51-{field}"), field: padded}
    assert await post_json(client, "/v1/track", message) == (200, {"success": True})
    published = len(kafka.published)
    again = {**message, field: read}
    assert await post_json(client, "/v1/track", again) == (200, {"success": True, "duplicates": 1})
    assert len(kafka.published) == published and not dead_letters.reasons

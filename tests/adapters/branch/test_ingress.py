"""The counter upload endpoint, with a stand-in publisher (no broker needed)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from adapters.base.errors import Unavailable
from adapters.branch.errors import BranchConfigError
from adapters.branch.ingress import UPLOAD_PATH, BranchIngress
from adapters.branch.mapper import CounterMapper
from bus.config import TopicSettings
from tests.adapters.base.support import CountingKafka, DeadLetters, deduping_publisher, kept_by_event_id
from tests.adapters.branch.support import TOKENS, branch_settings, sample
from tests.adapters.web.support import StandInPublisher
from tests.support.http import adapter_client


@pytest.fixture
def publisher() -> StandInPublisher:
    return StandInPublisher()


@pytest.fixture
async def client(publisher: StandInPublisher) -> AsyncIterator[TestClient]:
    settings = branch_settings()
    ingress = BranchIngress(settings, publisher, CounterMapper(settings, TopicSettings()))  # type: ignore[arg-type]
    async with adapter_client(ingress.app()) as test_client:
        yield test_client


async def upload(client: TestClient, body: Any, terminal: str = "CT-0142-03") -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await client.post(UPLOAD_PATH, data=data, headers={"Authorization": f"Bearer {TOKENS[terminal]}"})
    return response.status, await response.json()


def three_events() -> dict[str, Any]:
    events = [sample(name)["events"][0] for name in ("ticket_called_counter", "transaction_with_identifiers", "ticket_served_counter")]
    return {"terminal_id": "CT-0142-03", "branch_id": "0142", "events": events}


async def test_an_upload_is_submitted_whole_and_in_order(client: TestClient, publisher: StandInPublisher) -> None:
    status, body = await upload(client, three_events())
    dropped = body.pop("dropped_identifiers")  # the sample's national ID is not one under the test schemes
    assert (status, body) == (200, {"success": True, "accepted": 3, "duplicates": 0})
    assert [(d["index"], d["kind"]) for d in dropped] == [(1, "NATIONAL_ID")]
    assert [r.dedupe_id.split(":")[1][:8] for r in publisher.submitted] == ["a1c7e9d2", "d4fab2a5", "b2d8f0e3"]


async def test_one_bad_event_does_not_block_the_others(client: TestClient, publisher: StandInPublisher) -> None:
    body = three_events()
    body["events"][1]["kind"] = "transfer"
    status, answer = await upload(client, body)
    assert status == 400 and answer["code"] == "invalid_events"
    assert answer["accepted"] == ["a1c7e9d2-5b3f-4e8a-9c0d-2e4f6a8b0c11", "b2d8f0e3-6c4a-4f9b-8d1e-3f5a7b9c1d22"]
    assert [(r["index"], r["event_id"]) for r in answer["rejected"]] == [(1, "d4fab2a5-8e6c-4b1d-8f3a-5b7c9d1e3f44")]
    assert len(publisher.submitted) == 2
    (raw, error), = publisher.rejected
    assert json.loads(raw.value)["kind"] == "transfer" and raw.key == b"CT-0142-03" and "unknown event kind" in error.reason


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [({}, "missing bearer token"), ({"Authorization": "Bearer nope"}, "unknown terminal token"),
     ({"Authorization": f"Bearer {TOKENS['CT-0142-01']}"}, "does not belong")],
)
async def test_a_terminal_may_only_upload_as_itself(
    client: TestClient, publisher: StandInPublisher, headers: dict[str, str], fragment: str
) -> None:
    response = await client.post(UPLOAD_PATH, data=json.dumps(three_events()), headers=headers)
    assert response.status == 401 and fragment in (await response.json())["error"]
    assert publisher.submitted == [] and publisher.rejected == []


async def test_a_terminal_bound_to_a_branch_may_not_report_another(
    client: TestClient, publisher: StandInPublisher
) -> None:
    """A new user's terminal CT-0001-01 uploaded with branch_id "BR-0001": the KPIs then showed two sites for one
    branch. A terminal listed in terminal_branches is refused for any other branch; an unlisted one is not."""
    for wrong in ("BR-0142", "0143", "142"):
        status, answer = await upload(client, {**three_events(), "branch_id": wrong})
        assert status == 401 and "stands in branch '0142'" in answer["error"] and repr(wrong) in answer["error"]
    assert publisher.submitted == [] and publisher.rejected == []
    unbound = {**three_events(), "terminal_id": "QM-0142-1", "branch_id": "BR-0142"}
    assert (await upload(client, unbound, terminal="QM-0142-1"))[0] == 200


@pytest.mark.parametrize(
    ("body", "fragment"),
    [(b"[1, 2]", "JSON object"), ({"terminal_id": "CT-0142-03", "events": [{}]}, "missing 'branch_id'"),
     ({"terminal_id": "CT-0142-03", "branch_id": "0142", "events": [{}] * 1001}, "1000-event limit")],
)
async def test_a_malformed_upload_is_refused_whole_and_dead_lettered(
    client: TestClient, publisher: StandInPublisher, body: Any, fragment: str
) -> None:
    status, answer = await upload(client, body)
    assert status == 400 and fragment in answer["error"]
    assert len(publisher.rejected) == 1 and publisher.submitted == []


async def test_kafka_not_acknowledging_is_503_with_retry_after(client: TestClient, publisher: StandInPublisher) -> None:
    publisher.failure = Unavailable("events not acknowledged by Kafka", retry_after_s=3)
    response = await client.post(UPLOAD_PATH, data=json.dumps(three_events()),
                                 headers={"Authorization": f"Bearer {TOKENS['CT-0142-03']}"})
    assert response.status == 503 and response.headers["Retry-After"] == "3"


async def test_openapi_describes_the_upload(client: TestClient) -> None:
    spec = await (await client.get("/openapi.json")).json()
    assert "post" in spec["paths"][UPLOAD_PATH]


def test_an_adapter_without_tokens_refuses_to_start() -> None:
    settings = branch_settings(terminal_tokens={})
    with pytest.raises(BranchConfigError):
        BranchIngress(settings, StandInPublisher(), CounterMapper(settings, TopicSettings()))  # type: ignore[arg-type]


async def test_an_identifier_left_off_an_accepted_event_is_named_in_the_answer(
    client: TestClient, publisher: StandInPublisher
) -> None:
    """tester9 #5: a mistyped identifier was dropped behind a plain success; the answer now lists it, masked."""
    body = three_events()
    body["events"][1]["identifiers"] = [{"type": "PHONE", "value": "12"}, {"type": "account", "value": "ACC-1"}]
    status, answer = await upload(client, body)
    assert status == 200 and answer["success"] is True and answer["accepted"] == 3
    (dropped,) = answer["dropped_identifiers"]
    assert dropped["index"] == 1 and dropped["event_id"] == body["events"][1]["event_id"]
    assert (dropped["kind"], dropped["code"]) == ("PHONE", "phone-invalid") and dropped["reason"]
    assert "12" not in json.dumps(dropped["reason"])
    assert len(publisher.submitted) == 3  # the event itself still flowed


async def test_the_openapi_describes_dropped_identifiers(client: TestClient) -> None:
    spec = await (await client.get("/openapi.json")).json()
    ok = spec["paths"][UPLOAD_PATH]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "dropped_identifiers" in ok["properties"] and "dropped_handoffs" in ok["properties"]
    assert "dropped_offers" in ok["properties"]


# A part an event carries that cannot be kept: the section set on the second event, the part, the reason answered.
BAD_PARTS = {
    "handoff without kind (tester28 F6)": (
        ("transaction", "handoff"), {"summary": "no kind given"}, "handoff",
        "'transaction.handoff.kind' is required to open a handoff (the kind of case, e.g. line-repair)"),
    "follow-up without the case's handoff_id": (
        ("transaction", "follow_up"), {"summary": "brought the bank statement"}, "follow_up",
        "'transaction.follow_up.handoff_id' is required: the id of the open case the customer came back about"),
    "offer answer that is none": (
        ("offer",), {"offer_id": "green-tariff", "offer_version": 1, "response": "perhaps"}, "offer",
        "'offer.response' must be one of accepted, declined, not_now, opted_out, presented"),
}


@pytest.mark.parametrize(("path", "section", "part", "reason"), list(BAD_PARTS.values()), ids=list(BAD_PARTS))
async def test_a_part_that_cannot_be_kept_costs_only_that_part(
    client: TestClient, publisher: StandInPublisher, path: tuple[str, ...], section: dict, part: str, reason: str
) -> None:
    """tester28 F6 (a call's summary without the kind lost the call), at the counter, and the same loss for an offer
    answer: the event is published, the answer names the refused part by event id (``dropped_<part>s``), and the
    event is dead-lettered for it."""
    body = three_events()
    target = body["events"][1]
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = section
    status, answer = await upload(client, body)
    assert status == 200 and answer["success"] is True and answer["accepted"] == 3
    assert answer[f"dropped_{part}s"] == [{
        "index": 1, "event_id": body["events"][1]["event_id"], "code": "bad_field", "reason": reason}]
    assert len(publisher.submitted) == 3 and not publisher.rejected
    ((raw, dropped),) = publisher.parts_rejected
    assert json.loads(raw.value or b"")["event_id"] == body["events"][1]["event_id"]
    assert (dropped.part, dropped.refusal.code) == (part, "bad_field")


async def test_tester18_f9_a_trait_left_off_an_accepted_event_is_named_in_the_answer(
    client: TestClient, publisher: StandInPublisher
) -> None:
    """The clerk's bad birth date was dropped silently: the answer names the key and why, never the value."""
    body = three_events()
    body["events"][2]["customer"] = {"given_name": "Bill", "birth_date": "07/31/19xx"}
    status, answer = await upload(client, body)
    assert status == 200 and answer["success"] is True and answer["accepted"] == 3
    (dropped,) = answer["dropped_traits"]
    assert (dropped["index"], dropped["event_id"], dropped["trait"]) == (2, body["events"][2]["event_id"], "birth_date")
    assert "19xx" not in json.dumps(answer)
    assert len(publisher.submitted) == 3


def _tester19_x3(refund_id: str = "t19-x3") -> dict[str, Any]:
    """tester19 F18: a payment, then a refund for another customer under the same event id."""
    def event(event_id: str, transaction_id: str, kind: str, account: str) -> dict[str, Any]:
        return {"event_id": event_id, "kind": "transaction", "occurred_at": "2026-12-02T01:00:00+00:00",
                "transaction": {"id": transaction_id, "type": kind, "status": "completed"},
                "identifiers": [{"type": "ACCOUNT", "value": account}]}

    events = [event("t19-x3", "t19-tx-x3", "payment", "EL-7700011"),
              event(refund_id, "t19-tx-x3b", "refund", "EL-7700012")]
    return {"terminal_id": "CT-0142-03", "branch_id": "0142", "events": events}


Replica = tuple[TestClient, CountingKafka, DeadLetters]


async def replica(stack: AsyncExitStack) -> Replica:
    """One branch adapter process: the ingress with the real publisher and its own dedupe store, Kafka's side stood
    in for."""
    publisher, kafka, dead_letters = deduping_publisher("branch")
    settings = branch_settings()
    ingress = BranchIngress(settings, publisher, CounterMapper(settings, TopicSettings()))
    return await stack.enter_async_context(adapter_client(ingress.app())), kafka, dead_letters


@pytest.fixture
async def deduping() -> AsyncIterator[Replica]:
    async with AsyncExitStack() as stack:
        yield await replica(stack)


@pytest.fixture
async def two_replicas() -> AsyncIterator[tuple[Replica, Replica]]:
    """Two branch adapter processes, each with its own dedupe store (``deploy/k8s``: two pods behind one Service)."""
    async with AsyncExitStack() as stack:
        yield await replica(stack), await replica(stack)


async def test_tester19_f18_another_event_under_an_event_id_is_refused_as_a_conflict(
    deduping: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    client, kafka, dead_letters = deduping
    status, answer = await upload(client, _tester19_x3())
    assert (status, answer["accepted"]) == (400, ["t19-x3"])
    assert [(r["index"], r["event_id"], r["code"]) for r in answer["rejected"]] == [(1, "t19-x3", "id_conflict")]
    assert "'CT-0142-03:t19-x3' was already published with other content" in answer["rejected"][0]["reason"]
    assert len(dead_letters.reasons) == 1
    published = len(kafka.published)

    # the same refund re-sent is a conflict again (with the payment published before), never published
    status, answer = await upload(client, {**_tester19_x3(), "events": _tester19_x3()["events"][1:]})
    assert (status, answer["accepted"], answer["rejected"][0]["code"]) == (400, [], "id_conflict")
    assert len(kafka.published) == published and len(dead_letters.reasons) == 2


async def test_a_resent_upload_is_all_duplicates_and_publishes_nothing(
    deduping: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    client, kafka, _ = deduping
    body = _tester19_x3(refund_id="t19-x3b")
    assert await upload(client, body) == (200, {"success": True, "accepted": 2, "duplicates": 0})
    published = len(kafka.published)
    # key order and spacing are not content: the terminal's journal may serialise an event anew
    body["events"] = [dict(reversed(list(event.items()))) for event in body["events"]]
    assert await upload(client, body) == (200, {"success": True, "accepted": 2, "duplicates": 2})
    assert len(kafka.published) == published


def _transactions(kept: dict[tuple[str, str], Any]) -> list[str]:
    """The transaction types of the CounterTransaction events a subscriber keeps."""
    return sorted(o.event.value["transaction_type"] for o in kept.values()
                  if o.event.schema.endswith("CounterTransaction"))


async def test_f1_an_event_id_reused_on_another_replica_is_kept_downstream(
    two_replicas: tuple[Replica, Replica]
) -> None:
    """tester19 F18's refund, uploaded through the replica that did not publish the payment: it is published (that
    replica cannot know), under event ids of its own, so a subscriber deduping on event_id keeps both; the replica
    that published the payment still refuses it (id_conflict)."""
    (first, first_kafka, _), (second, second_kafka, second_dead) = two_replicas
    payment, refund = _tester19_x3()["events"]
    body = {"terminal_id": "CT-0142-03", "branch_id": "0142"}
    assert await upload(first, {**body, "events": [payment]}) == (200, {"success": True, "accepted": 1,
                                                                        "duplicates": 0})
    assert await upload(second, {**body, "events": [refund]}) == (200, {"success": True, "accepted": 1,
                                                                        "duplicates": 0})
    assert not second_dead.reasons
    assert _transactions(kept_by_event_id(first_kafka, second_kafka)) == ["payment", "refund"]
    status, answer = await upload(first, {**body, "events": [refund]})
    assert (status, answer["rejected"][0]["code"]) == (400, "id_conflict")


async def test_f1_a_reupload_through_another_replica_keeps_its_event_ids(two_replicas: tuple[Replica, Replica]) -> None:
    """An offline terminal's upload retried after a 503 may reach the other replica: published again there, with the
    same event ids, so subscribers drop the copy (key order is not content)."""
    (first, first_kafka, _), (second, second_kafka, _) = two_replicas
    body = three_events()
    assert (await upload(first, body))[0] == 200
    body["events"] = [dict(reversed(list(event.items()))) for event in body["events"]]
    assert (await upload(second, body))[0] == 200
    assert len(second_kafka.events) == len(first_kafka.events) > 0
    assert len(kept_by_event_id(first_kafka, second_kafka)) == len(first_kafka.events)


def _kept(kept: dict[tuple[str, str], Any], schema: str) -> list[dict[str, Any]]:
    return [o.event.value for o in kept.values() if o.event.schema == schema]


def _with_sections(event: dict[str, Any], offer_id: str, kind: str) -> dict[str, Any]:
    """The event with a recorded pitch of ``offer_id`` and a handoff of the case ``kind`` to the back office."""
    transaction = {**event["transaction"], "handoff": {"kind": kind, "summary": f"{kind} for the customer"}}
    return {**event, "transaction": transaction,
            "offer": {"offer_id": offer_id, "offer_version": 1, "response": "presented"}}


async def test_f1_an_event_id_reused_on_another_replica_names_its_own_presentation_and_handoff(
    two_replicas: tuple[Replica, Replica]
) -> None:
    """tester19 F18's kind with a pitch and a handoff on each: a transaction's pitch is named by the transaction
    (``counter:<terminal>:<transaction id>``, as its handoff; a corrected upload of it is a later version of the same
    pitch: ``bus.offer_presentations.pitch_of``), so the refund's pitch is a presentation of its own on the replica
    that did not see the payment."""
    (first, first_kafka, _), (second, second_kafka, _) = two_replicas
    payment, refund = _tester19_x3()["events"]
    body = {"terminal_id": "CT-0142-03", "branch_id": "0142"}
    assert (await upload(first, {**body, "events": [_with_sections(payment, "green-tariff", "billing")]}))[0] == 200
    assert (await upload(second, {**body, "events": [_with_sections(refund, "tv-pack", "refund-check")]}))[0] == 200
    kept = kept_by_event_id(first_kafka, second_kafka)
    presented = _kept(kept, "omnibus.marketing.OfferPresented")
    assert sorted(v["offer_id"] for v in presented) == ["green-tariff", "tv-pack"]
    assert len({v["presentation_id"] for v in presented}) == 2
    assert sorted(v["presentation_id"] for v in presented) == ["counter:CT-0142-03:t19-tx-x3",
                                                                "counter:CT-0142-03:t19-tx-x3b"]
    created = _kept(kept, "omnibus.handoff.HandoffCreated")
    assert sorted(v["handoff_id"] for v in created) == ["counter:CT-0142-03:t19-tx-x3", "counter:CT-0142-03:t19-tx-x3b"]


async def test_f1_a_reupload_through_another_replica_keeps_its_presentation_and_handoff_ids(
    two_replicas: tuple[Replica, Replica]
) -> None:
    (first, first_kafka, _), (second, second_kafka, _) = two_replicas
    payment = _with_sections(_tester19_x3()["events"][0], "green-tariff", "billing")
    body = {"terminal_id": "CT-0142-03", "branch_id": "0142"}
    assert (await upload(first, {**body, "events": [payment]}))[0] == 200
    assert (await upload(second, {**body, "events": [dict(reversed(list(payment.items())))]}))[0] == 200
    for schema, field in (("omnibus.marketing.OfferPresented", "presentation_id"),
                          ("omnibus.handoff.HandoffCreated", "handoff_id")):
        (one,), (other,) = ([o.event.value for o in k.events if o.event.schema == schema]
                            for k in (first_kafka, second_kafka))
        assert other[field] == one[field] and other["envelope"]["event_id"] == one["envelope"]["event_id"]
        assert len(_kept(kept_by_event_id(first_kafka, second_kafka), schema)) == 1


async def test_a_case_that_names_nobody_is_said_to_the_clerk_while_the_customer_is_there(
    client: TestClient, publisher: StandInPublisher
) -> None:
    """A counter case opened with a name only is needs_contact from its first status (the tracker's gauge
    ``omnibus_handoff_needing_contact``): the answer says so, by event id, so the clerk asks for a phone or e-mail;
    a case that names the customer is not listed."""
    body = three_events()
    named = body["events"][1]
    named["transaction"]["handoff"] = {"kind": "line-repair", "summary": "router broken"}
    nobody = {**json.loads(json.dumps(named)), "event_id": "e-nobody-1", "identifiers": [],
              "customer": {"given_name": "Marta"}}
    nobody["transaction"]["id"] = "tx-nobody-1"
    body["events"].append(nobody)
    status, answer = await upload(client, body)
    assert status == 200 and answer["success"] is True and answer["accepted"] == 4
    (entry,) = answer["handoffs_naming_nobody"]
    assert (entry["index"], entry["event_id"]) == (3, "e-nobody-1") and entry["handoff_id"].endswith("tx-nobody-1")
    assert "nobody will be notified" in entry["reason"] and "screen pop" in entry["reason"] and \
        "add a phone or e-mail" in entry["reason"]
    spec = await (await client.get("/openapi.json")).json()
    ok = spec["paths"][UPLOAD_PATH]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "handoffs_naming_nobody" in ok["properties"]


@pytest.mark.parametrize(("first", "again"), [
    ({"event_id": 5550001}, {"event_id": "5550001"}),  # the reported sample
    ({"event_id": "5550001"}, {"event_id": 5550001.0}),
    ({"agent_id": 42}, {"agent_id": "42"}),
    ({"transaction": {"id": 77, "type": "payment", "status": "completed", "counter_id": 3, "ticket_id": 9}},
     {"transaction": {"id": "77", "type": "payment", "status": "completed", "counter_id": "3", "ticket_id": "9"}}),
])
async def test_tester50_f15_an_id_sent_as_a_whole_number_and_as_its_text_is_one_id_and_one_content(
    deduping: tuple[TestClient, CountingKafka, DeadLetters], first: dict[str, Any], again: dict[str, Any]
) -> None:
    """tester50 F15: ``"event_id": 5550001`` was accepted, then the same event with ``"5550001"`` refused as an
    id_conflict (400, dead-lettered). A counter's ids are read as the web adapter reads its own
    (``adapters.base.whole_ids``): a whole number is its text, so the re-send is a duplicate."""
    client, kafka, dead_letters = deduping

    def body(change: dict[str, Any]) -> dict[str, Any]:
        event = {"event_id": "5550001", "kind": "transaction", "occurred_at": "2026-12-02T01:00:00+00:00",
                 "transaction": {"id": "t50-tx", "type": "payment", "status": "completed"},
                 "identifiers": [{"type": "ACCOUNT", "value": "EL-7700011"}], **change}
        return {"terminal_id": "CT-0142-03", "branch_id": "0142", "events": [event]}

    assert await upload(client, body(first)) == (200, {"success": True, "accepted": 1, "duplicates": 0})
    published = len(kafka.published)
    assert await upload(client, body(again)) == (200, {"success": True, "accepted": 1, "duplicates": 1})
    assert len(kafka.published) == published and not dead_letters.reasons


async def test_tester50_f15_a_refused_event_sent_with_a_numeric_id_is_echoed_by_its_text(
    deduping: tuple[TestClient, CountingKafka, DeadLetters]
) -> None:
    client, _, _ = deduping
    event = {"event_id": 5550002, "kind": "ticket_printed", "occurred_at": "2026-12-02T01:00:00+00:00"}
    status, answer = await upload(client, {"terminal_id": "CT-0142-03", "branch_id": "0142", "events": [event]})
    assert status == 400 and answer["rejected"][0]["event_id"] == "5550002"


_OFFER = {"offer_id": "fibre-upgrade", "offer_version": 1, "response": "presented"}


@pytest.mark.parametrize(("first", "again"), [
    ({"event_id": " 5550003"}, {"event_id": "5550003"}),  # the reported sample
    ({"event_id": "5550003 "}, {"event_id": 5550003}),
    ({"agent_id": " 42"}, {"agent_id": "42"}),
    ({"transaction": {"id": "t51-tx ", "type": "payment", "status": "completed", "counter_id": " 3"}},
     {"transaction": {"id": "t51-tx", "type": "payment", "status": "completed", "counter_id": 3}}),
    ({"offer": {**_OFFER, "offer_version": 1}}, {"offer": {**_OFFER, "offer_version": "1"}}),  # the offer's sample
    ({"offer": {**_OFFER, "offer_id": 42}}, {"offer": {**_OFFER, "offer_id": "42"}}),
    ({"offer": {**_OFFER, "offer_id": " fibre-upgrade"}}, {"offer": _OFFER}),
])
async def test_an_id_is_read_once_and_its_content_digested_as_read_so_a_resend_spelt_otherwise_is_a_duplicate(
    deduping: tuple[TestClient, CountingKafka, DeadLetters], first: dict[str, Any], again: dict[str, Any]
) -> None:
    """tester51 F5: ``" 5550003"`` then ``"5550003"`` was an id_conflict (the id was read trimmed, the content digested
    with the spaces); F12: the offer section's ``offer_version "1"`` after ``1`` too. An id is normalised once
    (``fields.id_text``), before it is read and before the content is digested."""
    client, kafka, dead_letters = deduping

    def body(change: dict[str, Any]) -> dict[str, Any]:
        event = {"event_id": "5550003", "kind": "transaction", "occurred_at": "2026-12-02T01:00:00+00:00",
                 "transaction": {"id": "t51-tx", "type": "payment", "status": "completed"},
                 "identifiers": [{"type": "ACCOUNT", "value": "EL-7700011"}], **change}
        return {"terminal_id": "CT-0142-03", "branch_id": "0142", "events": [event]}

    status, answer = await upload(client, body(first))
    assert (status, answer.get("dropped_offers")) == (200, None), answer
    published = len(kafka.published)
    assert await upload(client, body(again)) == (200, {"success": True, "accepted": 1, "duplicates": 1})
    assert len(kafka.published) == published and not dead_letters.reasons


async def test_a_numeric_offer_id_is_read_as_its_text_not_dropped_as_missing(
    client: TestClient, publisher: StandInPublisher
) -> None:
    """tester51 F12: ``"offer_id": 42`` was dropped with "'offer.offer_id' is required with an offer response"."""
    event = {"event_id": "ov-2", "kind": "transaction", "occurred_at": "2026-12-02T01:00:00+00:00",
             "transaction": {"id": "T-500", "type": "payment", "status": "completed"},
             "identifiers": [{"type": "ACCOUNT", "value": "EL-7700011"}], "offer": {**_OFFER, "offer_id": 42}}
    status, answer = await upload(client, {"terminal_id": "CT-0142-03", "branch_id": "0142", "events": [event]})
    assert (status, answer) == (200, {"success": True, "accepted": 1, "duplicates": 0})
    offers = [outgoing.event.value for record in publisher.submitted for outgoing in record.events
              if outgoing.event.schema.endswith("OfferPresented")]
    assert [offer["offer_id"] for offer in offers] == ["42"]
    fraction = {**event, "event_id": "ov-3", "offer": {**_OFFER, "offer_id": 4.5}}
    status, answer = await upload(client, {"terminal_id": "CT-0142-03", "branch_id": "0142", "events": [fraction]})
    (dropped,) = answer["dropped_offers"]
    assert "must be a string or a whole number" in dropped["reason"], dropped

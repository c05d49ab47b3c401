"""Issue #10 case 13 (call center): hostile CTRs, CDR lines and TaskRouter callbacks are refused alone
with a reason and a dead letter (never 500), and records sharing an id are not taken for duplicates."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client import REGISTRY
from twilio.request_validator import RequestValidator

from adapters.call_center.ingress_http import CallCenterIngress
from adapters.call_center.mapper import Topics
from adapters.call_center.state import CallCenterState
from bus.config import TopicSettings
from tests.adapters.base.test_publisher_encode import publisher as real_publisher
from tests.adapters.call_center.support import (
    LYON_TWILIO_TOKEN,
    PARIS_KEY,
    call_center_settings,
    master_lines,
    sample,
)
from tests.adapters.web.support import StandInPublisher
from tests.support.http import adapter_client

CTR = sample("ctr_inbound_answered.json")
AUTH = {"Authorization": f"Bearer {PARIS_KEY}"}


@pytest.fixture
def publisher() -> StandInPublisher:
    return StandInPublisher()


@pytest.fixture
async def client(publisher: StandInPublisher) -> AsyncIterator[TestClient]:
    settings = call_center_settings(verified_record_attributes={"ACCOUNT": ["accountNumber"]})  # a verifying flow
    ingress = CallCenterIngress(settings, Topics.of(TopicSettings()), publisher, CallCenterState(None))  # type: ignore[arg-type]
    async with adapter_client(ingress.app()) as client:
        yield client


def ctr(**changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(CTR)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target = record
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    return record


async def post(client: TestClient, path: str, body: str | bytes, **headers: str) -> tuple[int, Any]:
    response = await client.post(path, data=body, headers={**AUTH, **headers})
    return response.status, await response.json()


@pytest.mark.parametrize(("body", "fragment"), [
    (json.dumps(ctr(CustomerEndpoint__Address=33600000000)), "Address must be text"),
    (json.dumps(ctr(ContactId="c")).replace('"c"', '"c\\ud800"'), "surrogate"),
    ("[" * 10_000 + "]" * 10_000, "deeper"),
    (json.dumps(ctr(Attributes={"deep": 0})).replace("0}", "[" * 50 + "]" * 50 + "}"), "deeper"),
    (json.dumps(ctr(DisconnectTimestamp="9999-12-31T23:59:59.999999-14:00")), "outside"),
])
async def test_hostile_ctrs_are_400_with_a_reason_and_dead_lettered(
    client: TestClient, publisher: StandInPublisher, body: str, fragment: str
) -> None:
    status, answer = await post(client, "/v1/connect/ctr", body, **{"Content-Type": "application/json"})
    assert status == 400 and fragment in answer["error"], answer
    assert len(publisher.rejected) == 1 and publisher.submitted == []


async def test_one_bad_ctr_in_an_array_costs_only_itself(client: TestClient, publisher: StandInPublisher) -> None:
    bad = ctr(ContactId="other-contact", Agent__Username=42)
    status, answer = await post(client, "/v1/connect/ctr", json.dumps([CTR, bad]))
    assert status == 200 and answer["accepted"] == 1
    assert [r["index"] for r in answer["rejected"]] == [1] and "Username" in answer["rejected"][0]["reason"]
    assert len(publisher.submitted) == 1 and len(publisher.rejected) == 1


@pytest.mark.parametrize(("column", "value", "fragment"), [
    ("duration", "99999999999999", "duration"),
    ("start", "9999-12-31 23:59:59", "outside"),
    ("start", "1969-07-20 20:17:40", "outside"),
])
async def test_hostile_cdr_lines_are_400_with_a_reason(
    client: TestClient, publisher: StandInPublisher, column: str, value: str, fragment: str
) -> None:
    row = next(iter(__import__("csv").reader([master_lines()[0]])))
    index = ["accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
             "start", "answer", "end", "duration"].index(column)
    row[index] = value
    if column == "duration":
        row[11] = ""  # no end time: start + duration is used
    status, answer = await post(client, "/v1/asterisk/cdr", ",".join(f'"{v}"' for v in row),
                                **{"Content-Type": "text/csv"})
    assert status == 400 and fragment in answer["error"], answer
    assert len(publisher.rejected) == 1


async def test_cdr_attempts_sharing_a_uniqueid_are_each_published(client: TestClient, publisher: StandInPublisher) -> None:
    row = next(iter(__import__("csv").reader([master_lines()[0]])))
    attempts = []
    for disposition in ("FAILED", "NO ANSWER", "BUSY"):
        row[14] = disposition
        attempts.append(",".join(f'"{v}"' for v in row))
    status, answer = await post(client, "/v1/asterisk/cdr", "\n".join(attempts), **{"Content-Type": "text/csv"})
    assert status == 200 and (answer["accepted"], answer["duplicates"]) == (3, 0)
    assert len({record.dedupe_id for record in publisher.submitted}) == 3
    status, answer = await post(client, "/v1/asterisk/cdr", attempts[1], **{"Content-Type": "text/csv"})
    assert answer["accepted"] == 1  # the same line again is the same record (the stand-in does not dedupe)
    assert publisher.submitted[-1].dedupe_id == publisher.submitted[1].dedupe_id


def _signed(form: list[tuple[str, str]], url: str) -> dict[str, str]:
    from multidict import MultiDict

    signature = RequestValidator(LYON_TWILIO_TOKEN).compute_signature(url, MultiDict(form))
    return {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}


async def _callback(client: TestClient, form: list[tuple[str, str]]) -> tuple[int, str]:
    url = str(client.make_url("/v1/twilio/taskrouter"))
    response = await client.post("/v1/twilio/taskrouter", data=urlencode(form), headers=_signed(form, url))
    return response.status, await response.text()


def _terminal(**changes: str) -> list[tuple[str, str]]:
    form = {**sample("taskrouter_answered.json")[-1], **changes}
    return list(form.items())


@pytest.mark.parametrize(("changes", "fragment"), [
    ({"Timestamp": "100000000000000000000", "TimestampMs": ""}, "not a time"),
    ({"TaskAttributes": '{"conversations": {"queue_time": 1e400}, "from": "+33611223344"}'}, "overflows"),
    ({"TaskAttributes": '{"conversations": {"queue_time": 1e300}, "from": "+33611223344"}'}, "queue_time"),
    ({"TaskAttributes": '{"a":' + "[" * 10_000 + "]" * 10_000 + "}"}, "deeper"),
])
async def test_hostile_taskrouter_callbacks_are_400_and_dead_lettered(
    client: TestClient, publisher: StandInPublisher, changes: dict[str, str], fragment: str
) -> None:
    status, text = await _callback(client, _terminal(**changes))
    assert status == 400 and fragment in text, text
    assert len(publisher.rejected) == 1


async def test_a_signed_callback_with_a_repeated_parameter_is_accepted(
    client: TestClient, publisher: StandInPublisher
) -> None:
    form = [*_terminal(), ("Sid", "EV-second-value")]  # Sid appears twice, both values signed
    status, text = await _callback(client, form)
    assert status == 204, text
    assert len(publisher.submitted) == 1


async def test_an_unusable_caller_number_is_named_in_the_answer(client: TestClient, publisher: StandInPublisher) -> None:
    """tester9 #5: the record is accepted, and the answer lists the identifier left off (never its value)."""
    status, answer = await post(client, "/v1/connect/ctr", json.dumps([ctr(CustomerEndpoint__Address="12")]))
    assert status == 200 and answer["accepted"] == 1 and answer["rejected"] == []
    assert [(d["index"], d["kind"]) for d in answer["dropped_identifiers"]] == [(0, "PHONE")]
    assert len(publisher.submitted) == 1


async def test_tester14_n1_a_placeholder_account_is_named_in_the_answer(client: TestClient, publisher: StandInPublisher) -> None:
    """Dropped where it enters, so the sender hears of it (before, identity refused it later, unseen by the sender)."""
    status, answer = await post(client, "/v1/connect/ctr", json.dumps([ctr(Attributes={"accountNumber": "123456789"})]))
    assert status == 200 and answer["accepted"] == 1
    assert [(d["index"], d["kind"], d["code"]) for d in answer["dropped_identifiers"]] == [(0, "ACCOUNT", "placeholder")]


async def test_tester25_f2_a_record_key_the_flow_did_not_verify_is_named_in_the_answer(
        client: TestClient, publisher: StandInPublisher) -> None:
    """This site's flow verifies ``accountNumber`` only: an ``iban`` the caller typed is left off, the answer names
    it with the setting (never the value), and the call is published."""
    status, answer = await post(client, "/v1/connect/ctr", json.dumps([ctr(Attributes={
        "accountNumber": "ACC-100234", "iban": "FR7630006000011234567890189"})]))
    assert status == 200 and answer["accepted"] == 1
    assert [(d["index"], d["trait"]) for d in answer["dropped_traits"]] == [(0, "iban")]
    assert "VERIFIED_RECORD_ATTRIBUTES" in answer["dropped_traits"][0]["reason"]
    assert "FR7630006" not in json.dumps(answer) and len(publisher.submitted) == 1


async def test_a_malformed_offer_answer_costs_only_the_answer(client: TestClient, publisher: StandInPublisher) -> None:
    """The same loss as tester28 F6's handoff: an agent's half-recorded offer answer refused the whole CTR (400), and
    Connect, through Firehose, never reads the answer. The call is published, the answer names the field
    (``dropped_offers``), and the CTR is dead-lettered for it."""
    body = json.dumps([ctr(Attributes={"offer_id": "fibre-upgrade", "offer_response": "accepted"})])
    status, answer = await post(client, "/v1/connect/ctr", body)
    assert status == 200 and answer["accepted"] == 1 and answer["rejected"] == []
    assert [(d["index"], d["code"]) for d in answer["dropped_offers"]] == [(0, "malformed_field")]
    assert "Attributes.offer_version" in answer["dropped_offers"][0]["reason"]
    assert len(publisher.submitted) == 1 and not publisher.rejected
    ((raw, dropped),) = publisher.parts_rejected
    assert dropped.part == "offer" and json.loads(raw.value or b"")["Attributes"]["offer_id"] == "fibre-upgrade"


async def test_an_offer_answer_of_a_withheld_caller_is_named_in_the_answer(client: TestClient,
                                                                         publisher: StandInPublisher) -> None:
    """mends' leftover: a withheld caller's offer answer was dropped without a ``dropped_offers`` entry."""
    body = json.dumps([ctr(CustomerEndpoint=None, Attributes={
        "offer_id": "fibre-upgrade", "offer_version": "3", "offer_response": "accepted"})])
    status, answer = await post(client, "/v1/connect/ctr", body)
    assert status == 200 and answer["accepted"] == 1 and answer["rejected"] == []
    assert [(d["index"], d["code"]) for d in answer["dropped_offers"]] == [(0, "bad_field")]
    ((_, dropped),) = publisher.parts_rejected
    assert dropped.part == "offer"


async def test_a_task_whose_offer_answer_is_malformed_is_published_and_the_answer_dead_lettered(
    client: TestClient, publisher: StandInPublisher
) -> None:
    form = [(name, value) if name != "TaskAttributes" else
            (name, json.dumps(json.loads(value) | {"offer_id": "fibre-upgrade", "offer_version": "3",
                                                    "offer_response": "maybe"}))
            for name, value in _terminal()]
    status, text = await _callback(client, form)
    assert status == 204, text
    assert len(publisher.submitted) == 1 and not publisher.rejected
    ((raw, dropped),) = publisher.parts_rejected
    assert (dropped.part, dropped.refusal.code) == ("offer", "malformed_field") and b"TaskAttributes" in (raw.value or b"")


async def test_tester29_f10_a_national_id_the_flow_did_not_verify_is_named_in_the_answer(
        client: TestClient, publisher: StandInPublisher) -> None:
    """F10: a CTR whose IVR took a DNI (``nationalId``, ``dni``) answered without a word while the DNI was ignored:
    both attributes are named with the setting that reads a verified one (never the value), the call is published."""
    status, answer = await post(client, "/v1/connect/ctr", json.dumps([ctr(Attributes={
        "nationalId": "51234567C", "dni": "51234567C"})]))
    assert status == 200 and answer["accepted"] == 1
    assert sorted((d["index"], d["trait"]) for d in answer["dropped_traits"]) == [(0, "dni"), (0, "nationalId")]
    for dropped in answer["dropped_traits"]:
        assert "a national ID the contact flow did not verify" in dropped["reason"]
        assert "VERIFIED_RECORD_ATTRIBUTES gives for NATIONAL_ID" in dropped["reason"]
    assert "51234567" not in json.dumps(answer) and len(publisher.submitted) == 1


async def test_tester18_f9_a_trait_left_off_is_named_in_the_answer(client: TestClient, publisher: StandInPublisher) -> None:
    """An IVR birth date that is none was dropped silently: the answer names the key and why, never the value."""
    status, answer = await post(client, "/v1/connect/ctr", json.dumps([ctr(Attributes={"dateOfBirth": "1980-02-31"})]))
    assert status == 200 and answer["accepted"] == 1
    assert [(d["index"], d["trait"]) for d in answer["dropped_traits"]] == [(0, "birth_date")]
    assert "1980-02-31" not in json.dumps(answer)
    assert len(publisher.submitted) == 1


@pytest.mark.parametrize("birth_date", ["31/02/1985", "1985-13-45", "3000-01-01"])
async def test_tester19_f8_every_bad_ivr_birth_date_is_named_in_the_answer(
    client: TestClient, publisher: StandInPublisher, birth_date: str
) -> None:
    """The tester's IVR birth dates (no such day, no such month, the future): each is listed, never its value."""
    body = json.dumps(ctr(Attributes={"firstName": "Test", "dateOfBirth": birth_date}))
    status, answer = await post(client, "/v1/connect/ctr", body)
    assert status == 200 and answer["accepted"] == 1
    assert [(d["index"], d["trait"]) for d in answer["dropped_traits"]] == [(0, "birth_date")]
    assert birth_date not in json.dumps(answer)


async def test_tester19_f8_the_answer_through_the_real_publisher_lists_the_dropped_trait() -> None:
    """The stand-in publisher kept the mapped record as it was; the real one rebuilt it without dropped_traits."""
    ingress = CallCenterIngress(call_center_settings(), Topics.of(TopicSettings()), real_publisher("call-center-f8"),
                                CallCenterState(None))
    async with adapter_client(ingress.app()) as real_client:
        status, answer = await post(real_client, "/v1/connect/ctr", json.dumps(ctr(Attributes={"dateOfBirth": "31/02/1985"})))
    assert status == 200 and [(d["index"], d["trait"]) for d in answer["dropped_traits"]] == [(0, "birth_date")]


async def test_tester21_f13_a_resent_ctr_is_counted_in_the_duplicates_metric_as_it_is_answered() -> None:
    """The ingress skips an older-or-equal CTR version itself (before the publisher's dedupe): it answered
    ``duplicates: 1`` while ``omnibus_adapter_duplicates_total`` stayed 0."""
    name = "call-center-f13"
    ingress = CallCenterIngress(call_center_settings(), Topics.of(TopicSettings()), real_publisher(name),
                                CallCenterState(None))
    async with adapter_client(ingress.app()) as real_client:
        answers = [await post(real_client, "/v1/connect/ctr", json.dumps(ctr())) for _ in range(2)]
    assert [answer["duplicates"] for _, answer in answers] == [0, 1]
    assert REGISTRY.get_sample_value("omnibus_adapter_duplicates_total", {"adapter": name}) == 1

"""The shared adapter contract, applied to each call-center HTTP ingress against the real broker."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from adapters.base.http import HEALTH_PATHS
from adapters.call_center import mapper_asterisk, mapper_ctr, mapper_taskrouter
from adapters.call_center.mapper_taskrouter import Timeline
from bus.topics import CONTACT_EVENTS
from tests.adapters.call_center.support import (
    LYON_KEY,
    LYON_TWILIO_TOKEN,
    PARIS_KEY,
    context,
    delivery_of,
    master_lines,
    sample,
)
from tests.adapters.contract import AdapterContract, BadSample, Delivery, Sample
from tests.support.kafka_io import read_dead_letters, read_events
from tests.support.settings import settings_with_topics

CONTACT = "omnibus.contact"
CALL, INTERACTION = f"{CONTACT}.CallCompleted", f"{CONTACT}.InteractionRecorded"
OBSERVED = f"{CONTACT}.IdentifiersObserved"


def call_shapes(phone_key: str) -> list[tuple[str, str | None]]:
    return [(CALL, phone_key), (INTERACTION, phone_key), (OBSERVED, phone_key)]


@dataclass(frozen=True)
class WithoutKey:
    """A native record sent without (or with a wrong) credential."""

    native: Any
    key: str | None = None


def _ctr_without(field: str, **changes: Any) -> dict[str, Any]:
    ctr = {k: v for k, v in sample("ctr_inbound_answered.json").items() if k != field}
    return {**ctr, **changes}


class TestConnectCtrContract(AdapterContract):
    source_component = "adapter.call_center"
    samples = [
        Sample("answered within SLA", sample("ctr_inbound_answered.json"), call_shapes("PHONE:+33612345678")),
        Sample("abandoned in queue", sample("ctr_abandoned.json"), call_shapes("PHONE:+33698765432")),
        Sample("transferred", sample("ctr_transferred.json"), call_shapes("PHONE:+33144556677")),
    ]
    bad_samples = [
        BadSample("no ContactId", _ctr_without("ContactId"), reason="ContactId is missing"),
        BadSample("bad time", _ctr_without("InitiationTimestamp", InitiationTimestamp="yesterday"),
                  reason="InitiationTimestamp is malformed"),
        BadSample("not JSON", b'{"ContactId": "x", ', reason="not valid JSON", mapper_rejects=False),
        # tester19 F7: the call would be dated the day before it started
        BadSample("ends before it starts", _ctr_without("DisconnectTimestamp", DisconnectTimestamp="2024-03-04T09:14:10Z"),
                  reason="DisconnectTimestamp is malformed (before InitiationTimestamp"),
        # tester18 F9: every missing field named at once, not one a round trip
        BadSample("three fields missing", _ctr_without("ContactId", InitiationTimestamp=None, DisconnectTimestamp=None),
                  reason="ContactId is missing; CTR: required field InitiationTimestamp is missing; "
                         "CTR: required field DisconnectTimestamp is missing"),
        BadSample("unknown key", WithoutKey(sample("ctr_abandoned.json"), key="stolen"), reason="access key",
                  mapper_rejects=False, dead_lettered=False),
    ]

    @pytest.fixture
    def mapper(self) -> Any:
        return lambda ctr: mapper_ctr.map_ctr(ctr, context("paris"))

    @pytest.fixture
    def adapter(self, start_server: Any) -> Any:
        async def start(settings: Any, **overrides: Any) -> Any:
            _, session = await start_server(settings, **overrides)

            async def deliver(native: Any) -> Delivery:
                key = PARIS_KEY
                if isinstance(native, WithoutKey):
                    native, key = native.native, native.key
                body = native if isinstance(native, bytes) else json.dumps(native).encode()
                headers = {"Content-Type": "application/json"}
                if key:
                    headers["X-Amz-Firehose-Access-Key"] = key
                async with session.post("/v1/connect/ctr", data=body, headers=headers) as response:
                    return await delivery_of(response)

            return deliver

        return start


class TestAsteriskCdrContract(AdapterContract):
    source_component = "adapter.call_center"
    samples = [
        Sample("answered from queue", master_lines()[0], call_shapes("PHONE:+33612345678")),
        Sample("abandoned in queue", master_lines()[1], call_shapes("PHONE:+33698765432")),
        Sample("outbound", master_lines()[2], call_shapes("PHONE:+33144556677")),
    ]
    bad_samples = [
        BadSample("too few columns", '"","0612345678","3000","from-pstn"', reason="columns"),
        BadSample("bad start", master_lines()[0].replace("2024-03-05 10:09:31", "05/03/2024 10:09"),
                  reason="field start is malformed"),
        BadSample("no key", WithoutKey(master_lines()[0]), reason="access key", mapper_rejects=False,
                  dead_lettered=False),
    ]

    @pytest.fixture
    def mapper(self) -> Any:
        return lambda line: mapper_asterisk.map_cdr(line, context("paris"))

    @pytest.fixture
    def adapter(self, start_server: Any) -> Any:
        async def start(settings: Any, **overrides: Any) -> Any:
            _, session = await start_server(settings, **overrides)

            async def deliver(native: Any) -> Delivery:
                key: str | None = PARIS_KEY
                if isinstance(native, WithoutKey):
                    native, key = native.native, native.key
                headers = {"Content-Type": "text/csv"} | ({"Authorization": f"Bearer {key}"} if key else {})
                async with session.post("/v1/asterisk/cdr", data=f"{native}\n".encode(), headers=headers) as response:
                    return await delivery_of(response)

            return deliver

        return start


FORGED = "__forged_signature__"


def _terminal(name: str, **changes: str) -> list[dict[str, str]]:
    return [{**sample(name)[-1], **changes}]


class TestTwilioTaskRouterContract(AdapterContract):
    """A native here is the sequence of callbacks of one task; the last one ends it."""

    source_component = "adapter.call_center"
    samples = [
        Sample("answered", sample("taskrouter_answered.json"), call_shapes("PHONE:+33611223344")),
        Sample("caller hung up in queue", sample("taskrouter_abandoned.json"), call_shapes("PHONE:+33655443322")),
    ]
    bad_samples = [
        BadSample("attributes not JSON", _terminal("taskrouter_abandoned.json", TaskAttributes="{call_sid:"),
                  reason="TaskAttributes is malformed"),
        BadSample("no timestamp", _terminal("taskrouter_abandoned.json", Timestamp="", TimestampMs=""),
                  reason="Timestamp is missing"),
        BadSample("forged signature", _terminal("taskrouter_answered.json", **{FORGED: "1"}),
                  reason="X-Twilio-Signature", mapper_rejects=False, dead_lettered=False),
    ]

    @pytest.fixture
    def mapper(self) -> Any:
        def fold(forms: list[dict[str, str]]) -> Any:
            timeline = Timeline()
            for form in forms[:-1]:
                timeline = mapper_taskrouter.record(timeline, form)
            return mapper_taskrouter.map_task(forms[-1], timeline, context("lyon"))

        return fold

    @pytest.fixture
    def adapter(self, start_server: Any) -> Any:
        async def start(settings: Any, **overrides: Any) -> Any:
            server, session = await start_server(settings, **overrides)
            url = f"http://127.0.0.1:{server.port}/v1/twilio/taskrouter"
            validator = RequestValidator(LYON_TWILIO_TOKEN)

            async def deliver(native: list[dict[str, str]]) -> Delivery:
                delivery = Delivery(accepted=False)
                for form in native:
                    forged = FORGED in form
                    form = {k: v for k, v in form.items() if k != FORGED}
                    signature = "bm90IGEgc2lnbmF0dXJl" if forged else validator.compute_signature(url, form)
                    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
                    async with session.post("/v1/twilio/taskrouter", data=urlencode(form), headers=headers) as response:
                        delivery = await delivery_of(response)
                    if not delivery.accepted:
                        break
                return delivery

            return deliver

        return start


# -- beyond the contract ------------------------------------------------------------------------------

async def _calls(settings: Any) -> list[dict[str, Any]]:
    return [landed.event.value for landed in await read_events(settings, CONTACT_EVENTS)
            if landed.event.schema == CALL]


@pytest.mark.kafka
async def test_a_firehose_delivery_publishes_the_good_records_and_dead_letters_the_bad_one(
    start_server: Any, bootstrap_servers: str
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    _, session = await start_server(settings)
    records = [sample("ctr_inbound_answered.json"), sample("ctr_abandoned.json")]
    body = {"requestId": "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", "timestamp": 1709630000000, "records": [
        *({"data": base64.b64encode(json.dumps(r).encode()).decode()} for r in records),
        {"data": base64.b64encode(json.dumps({"ContactId": "broken"}).encode()).decode()},
    ]}
    headers = {"X-Amz-Firehose-Access-Key": PARIS_KEY, "X-Amz-Firehose-Request-Id": body["requestId"]}
    async with session.post("/v1/connect/ctr", json=body, headers=headers) as response:
        assert response.status == 200
        assert (await response.json())["requestId"] == body["requestId"]
    assert sorted(c["contact_id"] for c in await _calls(settings)) == sorted(r["ContactId"] for r in records)
    (letter,) = await read_dead_letters(settings)
    assert letter["value"] == b'{"ContactId": "broken"}' and "LastUpdateTimestamp" in letter["reason"]


@pytest.mark.kafka
async def test_a_newer_ctr_version_is_published_and_an_older_one_is_a_duplicate(
    start_server: Any, bootstrap_servers: str
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    _, session = await start_server(settings)
    first = sample("ctr_inbound_answered.json")
    newer = {**first, "LastUpdateTimestamp": "2024-03-05T09:20:00Z",
             "Attributes": {**first["Attributes"], "disposition": "refund-promised"}}
    older = {**first, "LastUpdateTimestamp": "2024-03-05T09:14:30Z"}
    replies = []
    for ctr in (first, newer, older, first):
        async with session.post("/v1/connect/ctr", json=ctr, headers={"Authorization": f"Bearer {PARIS_KEY}"}) as r:
            replies.append(await r.json())
    assert [r["duplicates"] for r in replies] == [0, 0, 1, 1]
    calls = await _calls(settings)
    assert [c["disposition"] for c in calls] == ["bill-explained", "refund-promised"]
    assert [c["envelope"]["source_event_id"].split("@")[1] for c in calls] == [
        "2024-03-05T09:15:55+00:00", "2024-03-05T09:20:00+00:00"]
    # The newer version names the one it replaces (the ingress's version store, issue #8 F13).
    assert [c["envelope"]["causation_id"] for c in calls] == [None, calls[0]["envelope"]["event_id"]]


@pytest.mark.kafka
async def test_versions_of_one_contact_in_one_batch_are_published_as_if_sent_one_by_one(
    start_server: Any, bootstrap_servers: str
) -> None:
    """Every version in a batch was compared with the store only, as it was before the batch: both versions went out,
    the later without its cause, and an older one after a newer (the order identity and the screen pop take for
    the versions' own). Now a version in a batch sees the ones before it."""
    settings = await settings_with_topics(bootstrap_servers)
    _, session = await start_server(settings)
    first = sample("ctr_inbound_answered.json")  # LastUpdateTimestamp 09:15:55
    at = lambda minute: {**first, "LastUpdateTimestamp": f"2024-03-05T09:{minute}:00Z"}  # noqa: E731
    replies = []
    for batch in ([at(20), first], [at(30), at(40)]):  # an older version after a newer; two newer ones
        async with session.post("/v1/connect/ctr", json=batch, headers={"Authorization": f"Bearer {PARIS_KEY}"}) as r:
            replies.append(await r.json())
    assert [r["duplicates"] for r in replies] == [1, 0]
    calls = await _calls(settings)
    assert [c["envelope"]["source_event_id"].split("@")[1] for c in calls] == [
        "2024-03-05T09:20:00+00:00", "2024-03-05T09:30:00+00:00", "2024-03-05T09:40:00+00:00"]
    assert [c["envelope"]["causation_id"] for c in calls] == [None] + [c["envelope"]["event_id"] for c in calls[:2]]


@pytest.mark.kafka
async def test_each_site_tags_its_own_calls(start_server: Any, bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    _, session = await start_server(settings)
    for key, line in ((PARIS_KEY, master_lines()[0]), (LYON_KEY, master_lines()[0])):
        auth = base64.b64encode(f"{key}:".encode()).decode()
        async with session.post("/v1/asterisk/cdr", data=line, headers={"Authorization": f"Basic {auth}"}) as r:
            assert r.status == 200, await r.text()
    calls = await _calls(settings)
    assert sorted((c["site"], c["envelope"]["site"], c["contact_id"]) for c in calls) == [
        ("lyon", "lyon", "lyon/1709629771.2591"), ("paris", "paris", "paris/1709629771.2591")]


@pytest.mark.kafka
async def test_a_cdr_batch_with_a_bad_line_publishes_the_rest(start_server: Any, bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    _, session = await start_server(settings)
    body = "\n".join([master_lines()[0], '"only","three","columns"', master_lines()[1]]) + "\n"
    async with session.post("/v1/asterisk/cdr", data=body, headers={"Authorization": f"Bearer {PARIS_KEY}"}) as r:
        reply = await r.json()
    assert r.status == 200 and reply["accepted"] == 2
    assert [(x["index"], x["code"]) for x in reply["rejected"]] == [(1, "bad_columns")]
    assert len(await _calls(settings)) == 2
    (letter,) = await read_dead_letters(settings)
    assert letter["value"] == b'"only","****","****"'  # its clear copy: src and dst masked as the caller's numbers


@pytest.mark.kafka
async def test_tester52_f7_a_cdr_over_two_lines_after_a_cut_line_is_published_and_the_cut_line_dead_lettered(
    start_server: Any, bootstrap_servers: str
) -> None:
    """The reported body: CDR 48, a cut line, CDR 49 whose userfield holds a line break, CDR 50 (CDR 49 was refused in
    two halves and lost; ``test_ingress_http_multiline.py`` has the rest of the kind)."""
    from tests.adapters.call_center.test_ingress_http_multiline import REPORTED

    settings = await settings_with_topics(bootstrap_servers)
    _, session = await start_server(settings)
    async with session.post("/v1/asterisk/cdr", data=REPORTED.encode(),
                            headers={"Authorization": f"Bearer {PARIS_KEY}", "Content-Type": "text/csv"}) as r:
        reply = await r.json()
    assert r.status == 200 and reply["accepted"] == 3, reply
    assert [(x["index"], x["code"]) for x in reply["rejected"]] == [(1, "truncated")]
    calls = await _calls(settings)
    assert sorted(c["contact_id"] for c in calls) == [f"paris/17333900{n}.1" for n in (48, 49, 50)]
    (letter,) = await read_dead_letters(settings)
    assert letter["value"].endswith(b'"""Ana Gar')  # the cut line alone, nothing of CDR 49 in it


@pytest.mark.kafka
async def test_taskrouter_events_before_the_end_of_a_task_publish_nothing(
    start_server: Any, bootstrap_servers: str
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    server, session = await start_server(settings)
    url = f"http://127.0.0.1:{server.port}/v1/twilio/taskrouter"
    validator = RequestValidator(LYON_TWILIO_TOKEN)
    worker_event = {"EventType": "worker.activity.update", "WorkspaceSid": sample("taskrouter_answered.json")[0][
        "WorkspaceSid"], "WorkerSid": "WKa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", "Timestamp": "1709633000"}
    for form in [worker_event, *sample("taskrouter_answered.json")[:-1]]:
        headers = {"X-Twilio-Signature": validator.compute_signature(url, form)}
        async with session.post("/v1/twilio/taskrouter", data=form, headers=headers) as response:
            assert response.status == 204
    assert await _calls(settings) == []


@pytest.mark.kafka
async def test_the_ingress_describes_itself(start_server: Any, bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    _, session = await start_server(settings)
    async with session.get("/openapi.json") as response:
        spec = await response.json()
    assert set(spec["paths"]) == {"/v1/connect/ctr", "/v1/asterisk/cdr", "/v1/twilio/taskrouter", *HEALTH_PATHS}


@pytest.mark.kafka
async def test_tester28_f6_a_call_whose_handoff_request_has_no_kind_is_published_without_the_handoff(
    start_server: Any, bootstrap_servers: str
) -> None:
    """tester28 F6: ``omnibus_handoff_summary`` without ``omnibus_handoff_kind`` got a 400, and the call was on no
    topic (Connect delivers through Firehose, which never reads the answer). Now the call is published, the answer
    names the refused handoff (``dropped_handoffs``) and the dead letter keeps the CTR; so for a TaskRouter task."""
    from bus.topics import HANDOFF_EVENTS

    settings = await settings_with_topics(bootstrap_servers)
    server, session = await start_server(settings)
    ctr = sample("ctr_inbound_answered.json")
    ctr = {**ctr, "Attributes": {**ctr["Attributes"], "omnibus_handoff_summary": "no kind given"}}
    async with session.post("/v1/connect/ctr", json=ctr, headers={"Authorization": f"Bearer {PARIS_KEY}"}) as r:
        assert r.status == 200, await r.text()
        reply = await r.json()
    why = ("field Attributes.omnibus_handoff_kind is required to open a handoff (the kind of case, e.g. "
           "line-repair)")
    assert (reply["accepted"], reply["rejected"]) == (1, [])
    assert reply["dropped_handoffs"] == [{"index": 0, "code": "missing_field", "reason": f"CTR: {why}"}]

    forms = sample("taskrouter_answered.json")
    forms[-1] = {**forms[-1], "TaskAttributes": json.dumps(
        json.loads(forms[-1]["TaskAttributes"]) | {"omnibus_handoff_team": "repair"})}
    url = f"http://127.0.0.1:{server.port}/v1/twilio/taskrouter"
    for form in forms:
        headers = {"X-Twilio-Signature": RequestValidator(LYON_TWILIO_TOKEN).compute_signature(url, form),
                   "Content-Type": "application/x-www-form-urlencoded"}
        async with session.post("/v1/twilio/taskrouter", data=urlencode(form), headers=headers) as r:
            assert r.status < 300, await r.text()

    assert len(await _calls(settings)) == 2  # the CTR's call and the task's
    assert not await read_events(settings, HANDOFF_EVENTS)
    letters = await read_dead_letters(settings)
    assert sorted(letter["reason"] for letter in letters) == [  # each names its record's own field (tester31 F9)
        f"handoff refused, the rest of the record was published: {source}: {why.replace('Attributes', field)}"
        for source, field in (("CTR", "Attributes"), ("TaskRouter callback", "TaskAttributes"))]
    assert {letter["error_type"] for letter in letters} == {"RejectedInput.missing_field"}
    (from_connect,) = [letter for letter in letters if "CTR" in letter["reason"]]
    assert json.loads(from_connect["value"])["ContactId"] == ctr["ContactId"]


@pytest.mark.kafka
async def test_a_call_s_case_that_names_nobody_is_said_in_the_answer(start_server: Any, bootstrap_servers: str) -> None:
    """A call from a withheld number whose agent opened a case, no account given: the case is needs_contact from its
    first status; the answer says nobody will be notified of it nor see it on a screen pop, and names it. A case
    whose call names the caller is not listed."""
    settings = await settings_with_topics(bootstrap_servers)
    _, session = await start_server(settings)
    sampled = sample("ctr_inbound_answered.json")
    handoff = {"omnibus_handoff_kind": "line-repair", "omnibus_handoff_summary": "router broken"}
    nobody = {**sampled, "ContactId": "c-withheld-0001", "CustomerEndpoint": None,
              "Attributes": {"disposition": "handoff", **handoff}}
    named = {**sampled, "ContactId": "c-named-0001", "Attributes": {**sampled["Attributes"], **handoff}}
    async with session.post("/v1/connect/ctr", json=[named, nobody],
                            headers={"Authorization": f"Bearer {PARIS_KEY}"}) as r:
        assert r.status == 200, await r.text()
        reply = await r.json()
    assert reply["accepted"] == 2 and reply["rejected"] == [], reply
    (entry,) = reply["handoffs_naming_nobody"]
    assert entry["index"] == 1 and "c-withheld-0001" in entry["handoff_id"], entry
    assert "nobody will be notified" in entry["reason"] and "add a phone or e-mail" in entry["reason"]

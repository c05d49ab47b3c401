from __future__ import annotations

import base64
import json

import pytest

from adapters.call_center import mapper_ctr
from adapters.call_center.errors import RejectedInput
from bus.serde import Event
from tests.adapters.call_center.support import context, sample

ANSWERED, ABANDONED = sample("ctr_inbound_answered.json"), sample("ctr_abandoned.json")


def test_one_ctr_an_array_and_json_lines_are_cut_into_records() -> None:
    single, _ = mapper_ctr.split_body(json.dumps(ANSWERED).encode())
    array, _ = mapper_ctr.split_body(json.dumps([ANSWERED, ABANDONED]).encode())
    lines, _ = mapper_ctr.split_body(f"{json.dumps(ANSWERED)}\n{json.dumps(ABANDONED)}\n".encode())
    for items in (single, array, lines):
        assert [i.record["ContactId"] for i in items] == [c["ContactId"] for c in (ANSWERED, ABANDONED)][: len(items)]
        assert all(i.error is None for i in items)


def test_a_firehose_delivery_is_unwrapped_and_a_bad_record_refused_alone() -> None:
    body = json.dumps({"requestId": "ed4acda5-034f-9f42-bba1-f29aea6d7d8f", "timestamp": 1578090901599, "records": [
        {"data": base64.b64encode(json.dumps(ANSWERED).encode()).decode()},
        {"data": base64.b64encode(b"{broken").decode()},
        {"data": "%%% not base64"},
    ]}).encode()
    items, firehose = mapper_ctr.split_body(body)
    assert firehose is not None and firehose.request_id == "ed4acda5-034f-9f42-bba1-f29aea6d7d8f"
    assert items[0].record["ContactId"] == ANSWERED["ContactId"]
    assert "not a JSON CTR" in items[1].error.reason and items[1].raw == b"{broken"
    assert "not base64" in items[2].error.reason


def test_an_unparseable_body_is_refused_whole() -> None:
    with pytest.raises(RejectedInput, match="not valid JSON"):
        mapper_ctr.split_body(b"{not json")
    with pytest.raises(RejectedInput, match="empty"):
        mapper_ctr.split_body(b"  \n")


def test_the_dedupe_id_is_the_contact_and_its_last_update() -> None:
    record = mapper_ctr.map_ctr(ANSWERED, context())
    assert record.dedupe_id == "amazon-connect:5ca32fbd-8f92-46af-92a5-6b0f970f0efe@2024-03-05T09:15:55+00:00"
    envelope = record.events[0].event.value["envelope"]
    assert envelope["source_event_id"] == "5ca32fbd-8f92-46af-92a5-6b0f970f0efe@2024-03-05T09:15:55+00:00"
    assert envelope["channel"] == "CALL_CENTER" and envelope["site"] == "paris"


def test_ivr_account_and_wrap_up_code_come_from_contact_attributes() -> None:
    """The account number of a flow that verified it (``verified_record_attributes``; none by default: tester25 F2)."""
    ctx = context(verified_record_attributes={"ACCOUNT": ["accountNumber"]})
    value = mapper_ctr.map_ctr(ANSWERED, ctx).events[0].event.value
    assert value["caller_identifiers"] == [{"type": "PHONE", "value": "+33612345678"},
                                           {"type": "ACCOUNT", "value": "ACC-100234"}]
    assert value["disposition"] == "bill-explained" and value["agent_id"] == "mdupont"


def test_a_chat_contact_is_an_interaction_but_not_a_call() -> None:
    chat = {**ABANDONED, "Channel": "CHAT", "CustomerEndpoint": None}
    record = mapper_ctr.map_ctr(chat, context())
    assert [o.event.schema for o in record.events] == ["omnibus.contact.InteractionRecorded"]
    assert record.events[0].event.value["kind"] == "CHAT"


def test_an_unknown_initiation_method_reads_unknown() -> None:
    value = mapper_ctr.map_ctr({**ANSWERED, "InitiationMethod": "WEBRTC_API"}, context()).events[0].event.value
    assert value["initiation_method"] == "UNKNOWN"


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("DisconnectTimestamp", None, "DisconnectTimestamp is missing"),
    ("LastUpdateTimestamp", "2024-03-05 09:15", "no UTC offset"),
    ("Queue", "billing", "Queue is malformed"),
    ("ContactId", 42, "ContactId is malformed"),
])
def test_bad_fields_are_named(field: str, value: object, reason: str) -> None:
    with pytest.raises(RejectedInput, match=reason):
        mapper_ctr.map_ctr({**ANSWERED, field: value}, context())


def test_tester19_f7_a_ctr_that_ends_before_it_starts_is_refused_naming_both_times() -> None:
    ctr = {**ANSWERED, "InitiationTimestamp": "2026-12-02T00:30:00Z", "DisconnectTimestamp": "2026-12-01T00:31:00Z"}
    with pytest.raises(RejectedInput, match="DisconnectTimestamp is malformed \\(before InitiationTimestamp"):
        mapper_ctr.map_ctr(ctr, context())


def test_a_ctr_that_ends_the_second_it_starts_is_a_contact() -> None:
    instant = ANSWERED["InitiationTimestamp"]
    ctr = {k: v for k, v in ANSWERED.items() if k not in ("Agent", "Queue")}
    mapper_ctr.map_ctr({**ctr, "DisconnectTimestamp": instant}, context())


@pytest.mark.parametrize("field", list(mapper_ctr.REQUIRED_FIELDS))
def test_tester14_n6_a_ctr_without_a_required_field_is_refused_naming_it(field: str) -> None:
    ctr = {k: v for k, v in sample("ctr_inbound_answered.json").items() if k != field}
    with pytest.raises(RejectedInput, match=field):
        mapper_ctr.map_ctr(ctr, context())


def test_every_other_field_of_a_ctr_is_optional_so_the_documented_list_is_whole() -> None:
    full = sample("ctr_inbound_answered.json")
    for field in set(full) - set(mapper_ctr.REQUIRED_FIELDS):
        mapper_ctr.map_ctr({k: v for k, v in full.items() if k != field}, context())


def test_the_required_fields_are_listed_in_the_readme_and_the_openapi() -> None:
    from pathlib import Path

    from adapters.call_center.openapi import OPENAPI

    readme = Path(mapper_ctr.__file__).with_name("README.md").read_text()
    table = readme.split("**Required CTR fields**", 1)[1].split("\n\n", 2)[1]
    assert [line.split("`")[1] for line in table.splitlines() if line.startswith("| `")] == list(
        mapper_ctr.REQUIRED_FIELDS)
    schemas = OPENAPI["paths"]["/v1/connect/ctr"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    (ctr_schema,) = [s for s in schemas["oneOf"] if "required" in s]
    assert ctr_schema["required"] == list(mapper_ctr.REQUIRED_FIELDS)


LANDLINE = "+33145678901"  # the tester's landline, which two housemates share (issue #8, F13)


def f13_versions(phone: str = LANDLINE, caller: dict[str, str] | None = None,
                 day: str = "2024-03-05") -> tuple[dict, dict]:
    """The tester's sample (F13): a CTR of a call from a shared landline, then Connect's update of the same contact
    (same ContactId, later LastUpdateTimestamp) with the IVR's attributes (``caller``: first name, last name, birth
    date) and the agent's wrap-up code added."""
    first = json.loads(json.dumps(ANSWERED).replace("2024-03-05T", f"{day}T"))
    first.update(CustomerEndpoint={"Address": phone, "Type": "TELEPHONE_NUMBER"}, Attributes={})
    caller = caller or {"firstName": "Bob", "lastName": "Martin", "dateOfBirth": "1980-02-03"}
    update = {**first, "LastUpdateTimestamp": f"{day}T09:31:02Z", "Attributes": {**caller,
                                                                                 "disposition": "resolved"}}
    return first, update


LATER_WRAP_UPS = ("resolved", "unresolved", "transferred")  # the wrap-up code of versions 2, 3, 4...


def published_versions(count: int, phone: str = LANDLINE, caller: dict[str, str] | None = None,
                       day: str = "2024-03-05") -> list[list[Event]]:
    """The events of ``count`` versions of the F13 contact as the adapter publishes them: in their
    ``LastUpdateTimestamp`` order (a minute apart after ``f13_versions``' two), each naming the one before as its
    cause; the agent's wrap-up code of each later version is the next of ``LATER_WRAP_UPS`` (its outcome)."""
    first, update = f13_versions(phone, caller, day)
    ctrs = [first] + [{**update, "LastUpdateTimestamp": f"{day}T09:{31 + n}:02Z",
                       "Attributes": {**update["Attributes"], "disposition": LATER_WRAP_UPS[n % len(LATER_WRAP_UPS)]}}
                      for n in range(count - 1)]
    published, found = None, []
    for ctr in ctrs:
        found.append([outgoing.event for outgoing in mapper_ctr.map_ctr(ctr, context(), published=published).events])
        published = mapper_ctr.ctr_call(ctr, context()).updated_at
    return found


def test_f13_an_updated_ctr_is_a_new_version_of_the_same_contact_with_its_own_ids() -> None:
    """Same id, same content: each version's events have their own ids; the update names the first version's events
    as its causes, carries the IVR's traits on its own ``IdentifiersObserved`` and the updated outcome."""
    first, update = f13_versions()
    one = mapper_ctr.map_ctr(first, context())
    published = mapper_ctr.ctr_call(first, context()).updated_at
    two = mapper_ctr.map_ctr(update, context(), published=published)
    by_kind = lambda record: {o.event.schema.rsplit(".", 1)[1]: o.event.value for o in record.events}  # noqa: E731
    v1, v2 = by_kind(one), by_kind(two)
    assert set(v1) == set(v2) == {"CallCompleted", "InteractionRecorded", "IdentifiersObserved"}
    for kind in v1:
        assert v1[kind]["envelope"]["event_id"] != v2[kind]["envelope"]["event_id"]
        assert v2[kind]["envelope"]["causation_id"] == v1[kind]["envelope"]["event_id"]
        assert v1[kind]["envelope"]["correlation_id"] == v2[kind]["envelope"]["correlation_id"]
    assert v1["InteractionRecorded"]["interaction_id"] == v2["InteractionRecorded"]["interaction_id"]
    assert not v1["IdentifiersObserved"]["traits"] and v2["IdentifiersObserved"]["traits"]["given_name"] == "Bob"
    assert v2["InteractionRecorded"]["traits_event_id"] == v2["IdentifiersObserved"]["envelope"]["event_id"]
    assert v1["InteractionRecorded"]["outcome"] != v2["InteractionRecorded"]["outcome"]
    assert mapper_ctr.map_ctr(first, context()).events[1].event.value["envelope"]["event_id"] == (
        v1["InteractionRecorded"]["envelope"]["event_id"])  # the same version again: the same id
    # An older version than the one published names nothing (the ingress drops it).
    assert mapper_ctr.superseding(mapper_ctr.ctr_call(first, context()), published).supersedes is None


def test_f1_a_ctr_version_has_the_same_event_ids_on_every_replica() -> None:
    """F1's kind (a sender's reusable id, a per-process check) left out on purpose: a CTR's event ids derive from its
    version, ``ContactId@LastUpdateTimestamp``, which Connect gives every update; the version store (``published``)
    is per process and only names the replaced version (causation_id). So a replica that did not publish the first
    version maps the update to the very ids the one that did maps it to, and those ids are the update's own."""
    first, update = f13_versions()
    published = mapper_ctr.ctr_call(first, context()).updated_at
    ids = lambda record: [o.event.value["envelope"]["event_id"] for o in record.events]  # noqa: E731
    knowing = ids(mapper_ctr.map_ctr(update, context(), published=published))
    other_replica = ids(mapper_ctr.map_ctr(update, context()))
    assert knowing == other_replica and not set(knowing) & set(ids(mapper_ctr.map_ctr(first, context())))

"""An agent's recorded answer to an offer (contact / task attributes) reaches Kafka like the web hall's."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from adapters.base.mapper import MappedRecord
from adapters.call_center import mapper_ctr, mapper_taskrouter
from adapters.call_center.state import Timeline
from bus.contact_versions import version_order
from bus.serde import Event
from tests.adapters.call_center.support import context, sample
from tests.adapters.call_center.test_mapper_handoff import _ctr_with, _task_with

OFFER = {"offer_id": "fibre-upgrade", "offer_version": "3", "offer_response": "declined"}
RECEIVED = datetime(2030, 1, 1, 1, tzinfo=UTC)  # when the adapter received the first version


def offer_events(record) -> list:  # type: ignore[no-untyped-def]
    return [o for o in record.events if o.event.schema.startswith("omnibus.marketing.")]


def test_connect_contact_attributes_carry_the_answer() -> None:
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), **OFFER}
    (out,) = offer_events(mapper_ctr.map_ctr(ctr, context()))
    value = out.event.value
    assert out.topic == "omnibus.marketing.responses.v1" and out.event.schema.endswith("OfferResponded")
    assert (value["offer_id"], value["offer_version"], value["response"], value["channel"]) == (
        "fibre-upgrade", 3, "DECLINED", "CALL_CENTER")
    assert value["agent_id"] and value["customer_identifiers"][0]["type"] == "PHONE"
    # a later version of the same CTR with the same answer repeats the same event id: the answer counts once
    again = copy.deepcopy(ctr)
    again["LastUpdateTimestamp"] = "2030-01-01T00:00:00Z"
    assert offer_events(mapper_ctr.map_ctr(again, context()))[0].event.value["envelope"]["event_id"] == \
        value["envelope"]["event_id"]


def published_answers(*responses: str) -> list[Event]:
    """The offer events of one CTR's versions as the adapter publishes them: version ``n`` records ``responses[n]``
    (its ``LastUpdateTimestamp`` a minute after the one before, naming the one before as published), received a
    second after the one before (the adapter publishes a contact's versions in their order)."""
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    published, found = None, []
    for n, response in enumerate(responses):
        ctr = {**ctr, "LastUpdateTimestamp": f"2030-01-01T00:{n:02d}:00Z",
               "Attributes": {**(ctr.get("Attributes") or {}), **OFFER, "offer_response": response}}
        (out,) = offer_events(mapper_ctr.map_ctr(ctr, context(), published))
        published = mapper_ctr.ctr_call(ctr, context()).updated_at
        envelope = {**out.event.value["envelope"], "received_at": RECEIVED + timedelta(seconds=n)}
        found.append(Event(out.event.schema, {**out.event.value, "envelope": envelope}))
    return found


def test_versions_with_the_same_answer_are_one_event_and_a_changed_answer_another() -> None:
    ids = [event.value["envelope"]["event_id"] for event in published_answers("presented", "presented", "accepted")]
    assert ids[0] == ids[1] != ids[2]


def test_an_answer_names_its_ctr_version_so_that_any_replica_s_versions_are_ordered() -> None:
    """Its ``source_event_id`` is the version's ``ContactId@LastUpdateTimestamp`` (``bus.contact_versions``), the
    same as the call's ``InteractionRecorded``: an older version published last by another replica is the older."""
    presented, accepted, again = published_answers("presented", "accepted", "accepted")
    ids = [event.value["envelope"]["source_event_id"] for event in (presented, accepted, again)]
    assert [source_id.partition("@")[2] for source_id in ids] == [
        "2030-01-01T00:00:00+00:00", "2030-01-01T00:01:00+00:00", "2030-01-01T00:02:00+00:00"]
    assert accepted.value["envelope"]["event_id"] == again.value["envelope"]["event_id"]  # the same answer: a copy
    late = {**presented.value["envelope"], "received_at": RECEIVED + timedelta(minutes=5), "causation_id": None}
    assert version_order(Event(presented.schema, {**presented.value, "envelope": late})) < version_order(accepted)


def _versions(first: str, later: str) -> tuple[dict, dict]:
    """The offer event of a CTR's first version recording ``first`` and of its later version recording ``later``."""
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), **OFFER, "offer_response": first}
    update = copy.deepcopy(ctr)
    update["LastUpdateTimestamp"] = "2030-01-01T00:00:00Z"  # after-contact work: the agent records the answer
    update["Attributes"]["offer_response"] = later
    published = mapper_ctr.ctr_call(ctr, context()).updated_at
    (one,) = offer_events(mapper_ctr.map_ctr(ctr, context()))
    (two,) = offer_events(mapper_ctr.map_ctr(update, context(), published))
    return one.event.value, two.event.value


def test_a_later_version_with_another_answer_is_a_new_event_of_the_same_pitch() -> None:
    """The offers49 finding: the first version said ``presented``, the later one ``accepted``; the acceptance had the
    presentation's event id and both processors dropped it as a copy. It has an id of its own now, and names the same
    presentation (the pitch the KPIs and the offer processor revise: ``bus.offer_presentations.pitch_of``)."""
    first, later = _versions("presented", "accepted")
    assert first["envelope"]["event_id"] != later["envelope"]["event_id"]
    assert later["response"] == "ACCEPTED" and "response" not in first
    assert first["presentation_id"] == later["presentation_id"]
    assert first["envelope"]["correlation_id"] == later["envelope"]["correlation_id"]
    assert first["envelope"]["occurred_at"] == later["envelope"]["occurred_at"]  # the call's end: one pitch


@pytest.mark.parametrize(("first", "later"), [("declined", "accepted"), ("accepted", "declined"),
                                               ("presented", "not_now"), ("accepted", "presented")])
def test_every_changed_answer_gets_its_own_event_id(first: str, later: str) -> None:
    one, two = _versions(first, later)
    assert one["envelope"]["event_id"] != two["envelope"]["event_id"]
    assert one["presentation_id"] == two["presentation_id"]


def test_another_offer_or_version_recorded_later_gets_its_own_event_id() -> None:
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), **OFFER}
    ids = set()
    for change in ({}, {"offer_version": "4"}, {"offer_id": "tv-bundle"}):
        ctr["Attributes"] = {**ctr["Attributes"], **OFFER, **change}
        (out,) = offer_events(mapper_ctr.map_ctr(ctr, context()))
        ids.add(out.event.value["envelope"]["event_id"])
    assert len(ids) == 3


def test_taskrouter_a_later_event_with_another_answer_gets_its_own_event_id() -> None:
    """A TaskRouter task reported again (its attributes updated in wrap-up) is the same kind of record."""
    terminal = copy.deepcopy(sample("taskrouter_answered.json")[-1])
    ids, presentations = set(), set()
    for response in ("presented", "accepted", "accepted"):
        terminal["TaskAttributes"] = json.dumps(json.loads(terminal["TaskAttributes"]) | {
            **OFFER, "offer_response": response})
        (out,) = offer_events(mapper_taskrouter.map_task(terminal, Timeline(), context("lyon")))
        ids.add(out.event.value["envelope"]["event_id"])
        presentations.add(out.event.value["presentation_id"])
    assert len(ids) == 2 and len(presentations) == 1


def test_the_answer_shares_the_correlation_of_the_calls_contact_events() -> None:
    """The offers processor gives the answer to the customer identity placed the call's InteractionRecorded on, found
    by this shared correlation id (processors/offers/intake.placement_key)."""
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), **OFFER}
    record = mapper_ctr.map_ctr(ctr, context())
    (answer,) = offer_events(record)
    (contact,) = [o for o in record.events if o.event.schema == "omnibus.contact.InteractionRecorded"]
    assert answer.event.value["envelope"]["correlation_id"] == contact.event.value["envelope"]["correlation_id"]


def test_without_offer_attributes_nothing_is_added() -> None:
    assert not offer_events(mapper_ctr.map_ctr(sample("ctr_inbound_answered.json"), context()))


BAD_ANSWERS = {  # the wrap-up form's offer fields an agent left half filled or mistyped, and the field named
    "half recorded": ({"offer_id": "fibre-upgrade", "offer_response": "accepted"}, "Attributes.offer_version"),
    "version not a number": ({**OFFER, "offer_version": "v3"}, "Attributes.offer_version"),
    "unknown response": ({**OFFER, "offer_response": "maybe later"}, "Attributes.offer_response"),
    # a whole number is the id's text (adapters.base.whole_ids): one with a fraction, or a boolean, is no id
    "id not text": ({**OFFER, "offer_id": 4.5}, "Attributes.offer_id"),
    "id a boolean": ({**OFFER, "offer_id": True}, "Attributes.offer_id"),
    "response without id": ({"offer_version": "3", "offer_response": "declined"}, "Attributes.offer_id"),
}


@pytest.mark.parametrize("source", [_ctr_with, _task_with], ids=["CTR", "TaskRouter"])
@pytest.mark.parametrize(("attributes", "field"), list(BAD_ANSWERS.values()), ids=list(BAD_ANSWERS))
def test_a_malformed_offer_answer_costs_only_the_answer(
        source: Callable[[dict], MappedRecord], attributes: dict, field: str) -> None:
    """The same loss as tester28 F6's handoff: a half-recorded or malformed offer answer refused the whole call (400),
    and Connect, delivering through Firehose, never reads the answer. The call is published without the answer, whose
    refusal the answer lists (``dropped_offers``) and the ingest dead-letters; the reason names the field, not the
    value."""
    record = source(attributes)
    assert not offer_events(record)
    schemas = [o.event.schema for o in record.events]
    assert "omnibus.contact.CallCompleted" in schemas and "omnibus.contact.InteractionRecorded" in schemas
    ((part, refused),) = [(dropped.part, dropped.refusal) for dropped in record.dropped_parts]
    within = "TaskAttributes" if source is _task_with else "Attributes"  # the record's own field (tester31 F9)
    named = f"field {field.replace('Attributes.', f'{within}.')} "
    assert (part, refused.code) == ("offer", "malformed_field") and named in refused.reason, refused
    assert "maybe later" not in refused.reason and "v3" not in refused.reason


def test_taskrouter_task_attributes_carry_the_answer() -> None:
    terminal = copy.deepcopy(sample("taskrouter_answered.json")[-1])
    terminal["TaskAttributes"] = json.dumps(json.loads(terminal["TaskAttributes"]) | {**OFFER, "offer_response": "accepted"})
    (out,) = offer_events(mapper_taskrouter.map_task(terminal, Timeline(), context("lyon")))
    assert out.event.value["response"] == "ACCEPTED"


def _withheld_ctr(attributes: dict) -> MappedRecord:
    """A Connect CTR from a withheld number (no ``CustomerEndpoint``) whose attributes name no identifier the site
    reads (``accountNumber`` is not verified by default)."""
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["CustomerEndpoint"] = None
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), **attributes}
    return mapper_ctr.map_ctr(ctr, context())


def _withheld_task(attributes: dict) -> MappedRecord:
    """A TaskRouter task of a withheld caller: no ``from`` nor ``caller`` attribute."""
    terminal = copy.deepcopy(sample("taskrouter_answered.json")[-1])
    task = {name: value for name, value in json.loads(terminal["TaskAttributes"]).items() if name not in (
        "from", "caller", "account_number")}
    terminal["TaskAttributes"] = json.dumps(task | attributes)
    return mapper_taskrouter.map_task(terminal, Timeline(), context("lyon"))


@pytest.mark.parametrize("source", [_withheld_ctr, _withheld_task], ids=["CTR", "TaskRouter"])
@pytest.mark.parametrize("response", ["declined", "accepted", "presented"])
def test_an_offer_answer_on_a_call_without_a_caller_identifier_is_refused_and_named(
        source: Callable[[dict], MappedRecord], response: str) -> None:
    """mends' leftover: the answer was dropped without a word (no event, no ``dropped_offers``). It is refused as the
    counter refuses one without the customer's identifiers: the call is published, the answer lists the refusal and
    the ingest dead-letters the record for it."""
    record = source({**OFFER, "offer_response": response})
    assert not offer_events(record)
    schemas = [o.event.schema for o in record.events]
    assert "omnibus.contact.InteractionRecorded" in schemas
    ((part, refused),) = [(dropped.part, dropped.refusal) for dropped in record.dropped_parts]
    assert (part, refused.code) == ("offer", "bad_field") and "caller's identifiers" in refused.reason, refused


@pytest.mark.parametrize("source", [_withheld_ctr, _withheld_task], ids=["CTR", "TaskRouter"])
def test_a_call_without_a_caller_and_without_an_answer_drops_nothing(source: Callable[[dict], MappedRecord]) -> None:
    assert source({}).dropped_parts == ()


@pytest.mark.parametrize("source", [_ctr_with, _task_with], ids=["CTR", "TaskRouter"])
def test_an_offer_id_written_as_a_whole_number_is_its_text(source: Callable[[dict], MappedRecord]) -> None:
    """tester51 F12 (the counter's sample): ``"offer_id": 42`` was refused as "is required"; an offer's id follows the
    rule of every id (``adapters.base.whole_ids``), as on the web adapter."""
    (outgoing,) = offer_events(source({**OFFER, "offer_id": 42}))
    assert outgoing.event.value["offer_id"] == "42"

import uuid
from datetime import UTC, datetime

import pytest

from bus.config import TopicSettings
from bus.producer import Tombstone
from bus.serde import SerdeContext
from processors.identity.announcements import Announcer, identifier_record
from processors.identity.assignments import tombstone_version
from processors.identity.graph.messages.base import EventRef
from processors.identity.graph.outputs import (
    Assigned,
    Created,
    Lineage,
    Linked,
    Merged,
    Refused,
    Resolved,
    Send,
    Split,
    Unassigned,
    announcement_id,
    moved_contact_id,
)
from tests.processors.identity.support import DESERIALIZER, SERIALIZER, interaction

TOPICS = TopicSettings()
NOW = datetime(2025, 3, 1, tzinfo=UTC)
LINEAGE = Lineage("ev-1", "CALL_CENTER", "co-observed")
CONTACT = interaction([("PHONE", "13912345678")])


def _load(ref):  # type: ignore[no-untyped-def]
    return CONTACT


ANNOUNCER = Announcer(TOPICS, _load, clock=lambda: NOW)

DECISIONS = [
    Created("cus_a", ("PHONE:+8613912345678", "EMAIL:a@x.org"), LINEAGE),
    Linked("cus_a", "ACCOUNT:ACC-1", LINEAGE),
    Merged("cus_a", "cus_b", ("EMAIL:b@x.org",), LINEAGE),
    Split("cus_a", "cus_c", ("EMAIL:b@x.org",), "two people", Lineage("cmd-1", "BACK_OFFICE", "manual-split")),
    Refused("PHONE:+8613912345678", "limit", Lineage("ev-2", "WEB", "max-per-customer"), "cus_a", "cus_b"),
    Refused("NATIONAL_ID:[national id]", "bad check", Lineage("ev-3", "BRANCH", "invalid-identifier")),
    Assigned("EMAIL:b@x.org", "cus_a", 2, "some-announcement"),
]


@pytest.mark.parametrize("decision", DECISIONS, ids=lambda d: type(d).__name__)
def test_every_decision_is_a_valid_avro_event_with_lineage(decision) -> None:  # type: ignore[no-untyped-def]
    records = ANNOUNCER.outgoing(decision)
    assert records
    for record in records:
        data = SERIALIZER(record.event, SerdeContext(topic=record.topic))  # strict: fails on any mismatch
        back = DESERIALIZER(data, SerdeContext(topic=record.topic))
        if "lineage" in back.value:
            assert back.value["lineage"]["triggering_event_id"] == decision.lineage.triggering_event_id
            assert back.value["envelope"]["event_id"] == decision.event_id
            assert back.value["envelope"]["causation_id"] == decision.lineage.triggering_event_id


def test_a_split_announces_who_split() -> None:
    """tester12 M6: ``CustomerSplit.operator`` (``--by``); null for a split announced without one."""
    by = Split("cus_a", "cus_c", ("EMAIL:b@x.org",), "two people", Lineage("cmd-1", "BACK_OFFICE", "manual-split"),
               "ops-3")
    for decision, operator in ((by, "ops-3"), (DECISIONS[3], None)):
        (record,) = ANNOUNCER.outgoing(decision)
        back = DESERIALIZER(SERIALIZER(record.event, SerdeContext(topic=record.topic)), SerdeContext(topic=record.topic))
        assert back.value["operator"] == operator


def test_a_merge_announces_its_match_weight_or_none() -> None:
    """tester12 S2: ``CustomerMerged.match_weight`` (bits) tells a weighed merge from one no weight decided (null)."""
    weighed = Merged("cus_a", "cus_b", ("EMAIL:b@x.org",), Lineage("ev-1", "BRANCH", "blocking-candidate"), 17.82)
    for decision, weight in ((weighed, 17.82), (DECISIONS[2], None)):
        for record in ANNOUNCER.outgoing(decision):  # customer.events and customer.contacts
            back = DESERIALIZER(SERIALIZER(record.event, SerdeContext(topic=record.topic)),
                                SerdeContext(topic=record.topic))
            assert back.value["match_weight"] == weight


def test_topics_and_keys() -> None:
    created, _, merged, _, refused, invalid, assigned = (ANNOUNCER.outgoing(d) for d in DECISIONS)
    assert (created[0].topic, created[0].key) == ("omnibus.customer.events.v1", "cus_a")
    assert [(r.topic, r.key) for r in merged] == [("omnibus.customer.events.v1", "cus_a"),
                                                    ("omnibus.customer.contacts.v1", "cus_b")]
    assert refused[0].key == "cus_a" and invalid[0].key == "NATIONAL_ID:[national id]"
    assert (assigned[0].topic, assigned[0].key) == ("omnibus.customer.identifiers.v1", "EMAIL:b@x.org")
    assert assigned[0].event.value["assigned_by_event_id"] == "some-announcement"


def test_event_ids_are_stable_across_replays() -> None:
    assert DECISIONS[0].event_id == Created("cus_a", ("X:1",), LINEAGE).event_id  # same trigger and customer
    assert DECISIONS[0].event_id != Created("cus_z", ("X:1",), LINEAGE).event_id
    assert uuid.UUID(announcement_id("created", "ev-1", "cus_a")).version == 5


def test_contacts_business_and_handoff_events_are_republished_keyed_by_their_customer_and_others_are_not() -> None:
    """tester15 F3: a billing line's facts belong to the customer identity placed it on (the screen pop's), not to
    the keeper of an e-mail or phone it shares with a housemate: subscribers read that placement from the copy."""
    for topic in ("omnibus.contact.events.v1", "omnibus.business.events.v1", "omnibus.handoff.events.v1"):
        (record,) = ANNOUNCER.outgoing(Resolved("cus_a", EventRef(topic, "s", b""), "ev-1"))
        assert (record.topic, record.key, record.event) == ("omnibus.customer.contacts.v1", "cus_a", CONTACT)
    assert ANNOUNCER.outgoing(Resolved("cus_a", EventRef("omnibus.identity.observed.v1", "s", b""), "ev-1")) == []
    assert ANNOUNCER.outgoing(Send("x", {})) == []


def test_identifier_records_keep_unknown_types_inside_the_enum() -> None:
    assert identifier_record("PHONE:+86139") == {"type": "PHONE", "value": "+86139"}
    assert identifier_record("FAX:123")["type"] == "UNKNOWN"


def test_an_evicted_identifier_is_announced_and_its_row_removed_by_a_versioned_tombstone() -> None:
    evicted = Refused("EMAIL:b@x.org", "limit", Lineage("ev-4", "WEB", "max-per-customer"), "cus_a", evicted=True)
    (record,) = ANNOUNCER.outgoing(evicted)
    back = DESERIALIZER(SERIALIZER(record.event, SerdeContext(topic=record.topic)), SerdeContext(topic=record.topic))
    assert back.value["evicted"] is True and back.value["customer_id"] == "cus_a" and back.value["operator"] is None
    released = Refused("PHONE:+33699887701", "released by an operator", Lineage("cmd-1", "BACK_OFFICE",
                       "manual-release"), "cus_a", evicted=True, operator="ops-1")  # tester F1: who released it
    (record,) = ANNOUNCER.outgoing(released)
    back = DESERIALIZER(SERIALIZER(record.event, SerdeContext(topic=record.topic)), SerdeContext(topic=record.topic))
    assert (back.value["operator"], back.value["lineage"]["rule"]) == ("ops-1", "manual-release")
    (tombstone,) = ANNOUNCER.outgoing(Unassigned("EMAIL:b@x.org", 3))
    assert isinstance(tombstone, Tombstone)
    assert (tombstone.topic, tombstone.key) == ("omnibus.customer.identifiers.v1", "EMAIL:b@x.org")
    assert tombstone_version(tombstone.headers) == 3


def test_a_contact_in_the_current_schema_is_republished_byte_for_byte_and_an_older_one_encoded_again() -> None:
    from bus.config import load_settings
    from processors.identity.wire import RoutingSerializer, reusable_records

    contacts = "omnibus.customer.contacts.v1"
    event = interaction([("EMAIL", "a@x.org")])
    record = SERIALIZER(event, SerdeContext(topic="omnibus.contact.events.v1"))
    announcer = Announcer(TopicSettings(), lambda ref: DESERIALIZER(ref.record, SerdeContext(topic=ref.topic)),
                          reusable=reusable_records(load_settings()))
    (out,) = announcer.outgoing(Resolved("cus_a", EventRef("omnibus.contact.events.v1", event.schema, record), "e"))
    published = RoutingSerializer(SERIALIZER)(out.event, SerdeContext(topic=contacts))
    assert published == record == SERIALIZER(DESERIALIZER(record, SerdeContext(topic="t")), SerdeContext(topic="t"))
    older = record[:2] + bytes(8) + record[10:]  # another writer's fingerprint: decoded and encoded again
    assert not reusable_records(load_settings())(EventRef("omnibus.contact.events.v1", event.schema, older))


def test_a_contact_moved_by_a_split_is_republished_under_the_new_customer_with_an_id_derived_from_the_split() -> None:
    """#8 point 7 (``graph/split_contacts.py``): the same contact, a new id from (split, contact), its own id as the
    cause; a redelivered split gives the same id."""
    ref = EventRef("omnibus.contact.events.v1", CONTACT.schema, b"")
    (record,) = ANNOUNCER.outgoing(Resolved("cus_c", ref, "ev-1", moved_by=DECISIONS[3].event_id))
    envelope, own = record.event.value["envelope"], CONTACT.value["envelope"]
    assert (record.topic, record.key, record.event.schema) == ("omnibus.customer.contacts.v1", "cus_c", CONTACT.schema)
    assert envelope["event_id"] == moved_contact_id(DECISIONS[3].event_id, "ev-1") != own["event_id"]
    assert envelope["causation_id"] == "ev-1" and envelope["correlation_id"] == own["correlation_id"]
    assert {k: v for k, v in record.event.value.items() if k != "envelope"} == {
        k: v for k, v in CONTACT.value.items() if k != "envelope"}
    (again,) = ANNOUNCER.outgoing(Resolved("cus_c", ref, "ev-1", moved_by=DECISIONS[3].event_id))
    assert again.event.value["envelope"]["event_id"] == envelope["event_id"]
    SERIALIZER(record.event, SerdeContext(topic=record.topic))  # still a valid contact event


def test_a_moved_contact_names_the_customer_it_left_in_a_header_for_readers_counting_per_customer() -> None:
    """KPIs take it off the old customer (``processors/kpis/ledger.py``); a contact not moved has no such header."""
    from bus.topics import MOVED_FROM_HEADER, moved_from

    ref = EventRef("omnibus.contact.events.v1", CONTACT.schema, b"")
    (record,) = ANNOUNCER.outgoing(Resolved("cus_c", ref, "ev-1", moved_by=DECISIONS[3].event_id, moved_from="cus_a"))
    assert record.headers == ((MOVED_FROM_HEADER, b"cus_a"),) and moved_from(record.headers) == "cus_a"
    assert moved_from([(MOVED_FROM_HEADER, b"\xff")]) is None and moved_from(None) is None

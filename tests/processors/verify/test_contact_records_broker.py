"""Verify's reading of identity's changelogs on a real broker, with a batch cut by a stop (``bus.batch_restore``):
the contacts changelog got the batch's record, the node changelog did not get its index entry, and the batch's done
marker came after the new owner's fence marker (a late write). Verify reads both as their owner holds them after its
restore: the batch taken back, the tables consistent."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bus.batch_restore import batch_header, done_marker
from bus.fencing import fence_headers, fence_marker
from bus.kafka_client import connection_options
from bus.producer import EventProducer
from bus.serde import build_serde
from bus.topic import KafkaRecord
from processors.identity.graph.contact_codec import encode_contact
from processors.identity.graph.context import token_hash
from processors.identity.graph.split_contacts import contact_key
from processors.identity.graph.state import encode_state
from processors.replay import read_topics
from processors.replay.identity import changelog, contacts_changelog, done_in, running_nodes
from processors.verify.contact_records import CONTACT_RECORDS, UNINDEXED, check_contact_records
from processors.verify.report import Report
from tests.processors.verify.test_contact_records import contact, customer
from tests.support.settings import isolated_settings

pytestmark = pytest.mark.kafka


def _written(topic: str, key: str, value: bytes, batch: str) -> KafkaRecord:
    return KafkaRecord(topic, key.encode(), value, (*fence_headers(1), batch_header(batch)), 0)


def _marker(topic: str, key: str | bytes, value: str | bytes, headers: tuple) -> KafkaRecord:
    key, value = (part.encode() if isinstance(part, str) else part for part in (key, value))
    return KafkaRecord(topic, key, value, tuple(headers), 0)


@pytest.mark.timeout(120)
async def test_verify_reads_a_batch_cut_by_a_stop_as_the_owner_took_it_back(bootstrap_servers: str) -> None:
    settings = isolated_settings(bootstrap_servers, partitions=1)
    nodes, contacts = changelog().name(settings.topics), contacts_changelog().name(settings.topics)
    admin = AIOKafkaAdminClient(**connection_options(settings.kafka))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(nodes, 1, 1), NewTopic(contacts, 1, 1)])
    finally:
        await admin.close()
    e1, e2 = (contact_key("cus_1", token_hash(event_id)) for event_id in ("e1", "e2"))
    records = [
        _written(nodes, "cus_1", encode_state(customer("e1")), "w1:1"),
        _written(contacts, e1, encode_contact(contact("e1")), "w1:1"),
        _marker(nodes, *done_marker(("w1", 1), 1)),
        _written(contacts, e2, encode_contact(contact("e2")), "w1:2"),  # the worker stops here: no index entry
        *(_marker(topic, *fence_marker(2)) for topic in (nodes, contacts)),  # the new owner's
        _marker(nodes, *done_marker(("w1", 2), 1)),  # the stopped worker's, when it resumes: a late write
    ]
    async with EventProducer(settings, build_serde(settings.registry)[0]) as producer:
        await producer.send(records)
    read = (await read_topics(settings, [changelog(), contacts_changelog()],
                              raw=[changelog(), contacts_changelog()])).records
    node_records = [record for record in read if record.topic == nodes]
    contact_records = [record for record in read if record.topic == contacts]
    assert len(node_records) == 4 and len(contact_records) == 3

    table, undecodable = running_nodes(node_records)
    report = Report()
    check_contact_records(table, contact_records, ("e1", "e2"), report, done=done_in(node_records))
    assert undecodable == 0 and report.check(CONTACT_RECORDS).ok, report.lines()

    done = done_in(node_records)
    done.add(0, ("w1", 2))  # as if w1:2's marker were not late: its record stays, which no index names
    report = Report()
    check_contact_records(table, contact_records, ("e1", "e2"), report, done=done)
    assert not report.check(CONTACT_RECORDS).ok and report.figures.get(UNINDEXED)

"""An operator moves one contact on a real broker (tester10 #14): the identity worker with its screen pop.

Ann (her account and the family phone) and Bob (his account); a call from the phone lands on Ann's screen pop. The
move command (``MoveContact`` on the graph topic, as ``omnibus identity move-contact`` publishes it), published twice
(a redelivered command): the call leaves Ann's screen pop for Bob's, is re-published on ``customer.contacts`` under
Bob once with an id derived from the move, and ``ContactMoved`` (who, why) is announced once. Outputs are counted per
event id. ``omnibus verify`` agrees afterwards; the command line refuses a ``--to`` that is no current customer.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import aiohttp
import pytest
from typer.testing import CliRunner

from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import CONTACT_EVENTS, CUSTOMER_CONTACTS, CUSTOMER_EVENTS, IDENTIFIERS_OBSERVED
from omnibus.cli import app as omnibus
from processors.identity.cli_common import _publish
from processors.identity.graph.messages.commands import MoveContact
from processors.identity.graph.outputs import moved_contact_id
from processors.verify.run import averify
from tests.processors.identity.broker import assignments, running_workers, wait_until_quiet, watched_topics
from tests.processors.identity.graph.test_split_broker import QUIET_WITHIN_S, counter_visit, identifier_key, screen_pop
from tests.processors.identity.support import HMAC_KEY, observed, settings
from tests.support.kafka_io import one_per_event_id, read_events
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka

PHONE, ANNS_ACCOUNT, BOBS_ACCOUNT = ("PHONE", "+33677777777"), ("ACCOUNT", "ACC-ANN"), ("ACCOUNT", "ACC-BOB")


@pytest.mark.timeout(600)  # a worker's start and two quiet waits on a loaded 2-core CI machine
async def test_an_operator_moves_a_visit_to_the_right_customer(bootstrap_servers: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=2)
    visit = counter_visit("TX-FAMILY-1", [PHONE], 2)
    observed_topic, contacts_topic = IDENTIFIERS_OBSERVED.name(config.topics), CONTACT_EVENTS.name(config.topics)
    serializer, _ = build_serde(config.registry)
    async with EventProducer(config, serializer) as producer:
        await producer.publish_many([
            Outgoing(observed_topic, "a", observed([ANNS_ACCOUNT, PHONE], minutes=0)),
            Outgoing(observed_topic, "b", observed([BOBS_ACCOUNT], minutes=1))])
        await producer.publish(Outgoing(contacts_topic, "TX-FAMILY-1", visit))
    for name, value in {"KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "TOPICS__PREFIX": config.topics.prefix,
                        "TOPICS__PARTITIONS": "2", "PROCESSOR_IDENTITY__HMAC_KEY": HMAC_KEY}.items():
        monkeypatch.setenv(f"OMNIBUS_{name}", value)

    async with running_workers(config, settings(), tmp_path, 1, web_ports=[0]) as workers:
        port = workers[0].app.conf.web_port  # bound when the worker was built (port 0), served on at its start
        group = workers[0].app.conf.id
        await wait_until_quiet(config, watched_topics(workers[0]), group, timeout_s=QUIET_WITHIN_S)
        owners = await assignments(config)
        anns, bobs = owners[identifier_key(ANNS_ACCOUNT)], owners[identifier_key(BOBS_ACCOUNT)]
        assert anns != bobs and owners[identifier_key(PHONE)] == anns
        refused = await asyncio.to_thread(CliRunner().invoke, omnibus, [
            "identity", "move-contact", "TX-FAMILY-1", "--from", anns, "--to", "cus_nobody", "--by", "ops-3",
            "--reason", "the caller was Bob"])
        assert refused.exit_code == 2 and "--to: no current customer cus_nobody" in refused.output, refused.output
        nothing = await asyncio.to_thread(CliRunner().invoke, omnibus, [  # not on Bob's: it would move nothing
            "identity", "move-contact", "TX-FAMILY-1", "--from", bobs, "--to", anns, "--by", "ops-3", "--reason", "x"])
        assert nothing.exit_code == 1 and f"is not on {bobs} but on 1 other customer: {anns}" in nothing.output, (
            nothing.output)
        command = MoveContact("TX-FAMILY-1", bobs, "ops-3", "the visitor was Bob", str(uuid.uuid4()))
        await _publish(config, anns, command)
        await _publish(config, anns, command)  # the same command again: a redelivered move
        await wait_until_quiet(config, watched_topics(workers[0]), group, timeout_s=QUIET_WITHIN_S)
        async with aiohttp.ClientSession() as http:
            assert await screen_pop(http, port, bobs) == ["TX-FAMILY-1"]
            assert await screen_pop(http, port, anns) == []

    (moved,) = [e.event for e in one_per_event_id(await read_events(config, CUSTOMER_EVENTS))
                if e.event.schema == "omnibus.identity.ContactMoved"]
    contact_event_id = visit.value["envelope"]["event_id"]
    assert (moved.value["source_customer_id"], moved.value["target_customer_id"], moved.value["moved_event_ids"]) == (
        anns, bobs, [contact_event_id])
    assert (moved.value["operator"], moved.value["reason"], moved.value["lineage"]["rule"]) == (
        "ops-3", "the visitor was Bob", "manual-move")
    published = sorted((item.key, item.event.value["envelope"]["event_id"])
                       for item in one_per_event_id(await read_events(config, CUSTOMER_CONTACTS))
                       if item.event.value.get("transaction_id") == "TX-FAMILY-1")
    assert published == sorted([(anns, contact_event_id),
                                (bobs, moved_contact_id(moved.value["envelope"]["event_id"], contact_event_id))])
    assert (await assignments(config))[identifier_key(ANNS_ACCOUNT)] == anns  # identifiers stay where they were
    report = await averify(config, processors=("identity",), identity=settings())
    assert report.ok, "\n".join(report.lines())

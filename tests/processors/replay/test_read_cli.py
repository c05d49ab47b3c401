"""``omnibus topics read``: a topic's last records, decoded, identifiers masked (a new user had no way to look)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from bus.kafka_client import connection_options
from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde
from bus.topics import DEAD_LETTERS, IDENTIFIERS_OBSERVED
from omnibus.cli import app as omnibus
from processors.replay import Replayed, read_topics
from processors.replay.read_cli import UnknownTopic, line, newest, topic_spec
from tests.support.samples import identifiers_observed
from tests.support.settings import settings_with_topics


def test_a_topic_is_found_by_its_declared_name_with_or_without_the_prefix() -> None:
    assert topic_spec("identity.observed.v1", "omnibus") is IDENTIFIERS_OBSERVED
    assert topic_spec("acme.deadletter.v1", "acme") is DEAD_LETTERS


@pytest.mark.parametrize(("name", "says"), [("identity.graph.v1", "internal"), ("billing.v1", "readable: ")])
def test_an_internal_or_unknown_topic_is_refused_with_what_can_be_read(name: str, says: str) -> None:
    with pytest.raises(UnknownTopic, match=says):
        topic_spec(name, "omnibus")
    result = CliRunner().invoke(omnibus, ["topics", "read", name])
    assert result.exit_code == 2 and says in result.output


def test_a_line_masks_identifiers_in_the_key_and_the_record_and_shows_bytes_by_their_length() -> None:
    event = identifiers_observed("+33612345678", email="ann@example.org")
    record = Replayed("omnibus.identity.observed.v1", 1, 7, b"PHONE:+33612345678", event)
    shown = json.loads(line(record))
    assert (shown["topic"], shown["partition"], shown["offset"]) == ("omnibus.identity.observed.v1", 1, 7)
    assert shown["event"]["schema"] == "omnibus.contact.IdentifiersObserved"
    text = json.dumps(shown)
    assert "33612345678" not in text and "ann@example.org" not in text and "PHONE:" in text
    dead = Replayed("t", 0, 0, None, Event("omnibus.deadletter.DeadLetter", {"original_value": b"\x00" * 12,
                                                                              "amount": Decimal("12.50")}))
    assert json.loads(line(dead))["event"]["value"] == {"original_value": "<12 bytes>", "amount": "12.50"}
    undecodable = Replayed("t", 0, 1, None, None, b"\x00" * 5)
    assert json.loads(line(undecodable))["event"] == {"undecodable": "<5 bytes>"}
    assert json.loads(line(Replayed("t", 0, 2, b"PHONE:+33612345678", None, None)))["event"] == {"tombstone": True}


def test_tester50_f10_an_alias_previous_id_is_masked_as_the_ids_beside_it() -> None:
    """``topics read identity.observed.v1`` printed ``"alias_previous_id": "48151623"`` whole beside the masked
    ``USER_ID`` of the same kind of value: the trait names an id (bus.redact.SENSITIVE_FIELDS)."""
    alias = Event("omnibus.contact.IdentifiersObserved", {
        "identifiers": [{"type": "USER_ID", "value": "73920184"}], "traits": {"alias_previous_id": "48151623"}})
    text = line(Replayed("omnibus.identity.observed.v1", 0, 3, b"USER_ID:73920184", alias))
    assert "48151623" not in text and "73920184" not in text and "alias_previous_id" in text


def test_a_key_its_topic_declares_an_identifier_is_masked_like_the_value() -> None:
    """tester15 F12: ``topics read business.events.v1`` masked ``account_number`` (``****5678``) but printed the key
    ``"400012345678"``; a dead letter is keyed by its original record's key."""
    opened = Event("omnibus.business.AccountOpened", {"account_number": "400012345678"})
    shown = json.loads(line(Replayed("omnibus.business.events.v1", 2, 9, b"400012345678", opened)))
    assert shown["key"] == shown["event"]["value"]["account_number"] == "****5678"
    dead = Event("omnibus.deadletter.DeadLetter", {"source_topic": "omnibus.business.events.v1", "key": b"4000"})
    assert json.loads(line(Replayed("omnibus.deadletter.v1", 0, 1, b"400012345678", dead)))["key"] == "****5678"
    offer = Event("omnibus.marketing.OfferPublished", {"offer_id": "green-power-2027"})
    assert json.loads(line(Replayed("omnibus.marketing.offers.v1", 0, 1, b"green-power-2027", offer)))["key"] == \
        "green-power-2027"


def test_ids_dates_and_names_are_shown_as_they_are_and_identifier_fields_as_on_the_screen_pop() -> None:
    """A new user could not copy ``cus_6617eb225f[digits]bb60f80`` into /customers/{id}, nor see which birth date
    a call carried: only identifier values are masked now, the way the screen pop and verify show them."""
    customer = "cus_6617eb225f7708740bb60f80"
    event = identifiers_observed("+33612345678")
    event.value["traits"] = {"given_name": "Lou", "birth_date": "1995-03-03"}
    event.value["envelope"]["event_id"] = "0d9b84a7-1234-5678-9abc-def012345678"
    shown = json.loads(line(Replayed("t", 0, 0, customer.encode(), event)))
    assert shown["key"] == customer
    value = shown["event"]["value"]
    assert value["traits"] == {"given_name": "Lou", "birth_date": "1995-03-03"}
    assert value["envelope"]["event_id"] == "0d9b84a7-1234-5678-9abc-def012345678"
    assert value["identifiers"] == [{"type": "PHONE", "value": "+33*****5678"}]
    billing = Event("omnibus.business.BillIssued", {"account_number": "ACC-0042-7781", "customer_id": customer})
    assert json.loads(line(Replayed("t", 0, 1, b"ACCOUNT:ACC-0042-7781", billing))) ["key"] == "ACCOUNT:ACC-****7781"
    assert json.loads(line(Replayed("t", 0, 1, None, billing)))["event"]["value"] == {
        "account_number": "ACC-****7781", "customer_id": customer}


@pytest.mark.kafka
@pytest.mark.timeout(120)
async def test_the_last_records_of_each_partition_are_read_from_a_real_broker(
        bootstrap_servers: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=1)
    serializer, _ = build_serde(config.registry)
    topic = IDENTIFIERS_OBSERVED.name(config.topics)
    async with EventProducer(config, serializer) as producer:
        for sequence in range(5):
            await producer.publish(Outgoing(topic, "k", identifiers_observed(f"+3361234567{sequence}",
                                                                            sequence=sequence)))
    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", bootstrap_servers)
    monkeypatch.setenv("OMNIBUS_TOPICS__PREFIX", config.topics.prefix)
    result = await asyncio.to_thread(CliRunner().invoke, omnibus, ["topics", "read", "identity.observed.v1",
                                                                  "--last", "2"])
    assert result.exit_code == 0, result.output
    shown = [json.loads(text) for text in result.stdout.splitlines()]
    assert [record["offset"] for record in shown] == [3, 4]
    assert [record["event"]["value"]["envelope"]["source_event_id"] for record in shown] == ["seq-3", "seq-4"]
    assert "+3361234567" not in result.stdout
    assert "2 records shown, the newest (--last 2); older ones are left out" in result.stderr  # tester28 F11


@pytest.mark.kafka
@pytest.mark.timeout(120)
async def test_a_tombstone_is_read_as_one_not_as_an_undecodable_record(
        bootstrap_servers: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A release or an eviction leaves a tombstone on customer.identifiers.v1: ``topics read`` (and every reader of
    ``read_topics``: review list, verify) exited 65 "did not decode ... set OMNIBUS_REGISTRY__URL" (tester18 F6)."""
    config = await settings_with_topics(bootstrap_servers, partitions=1)
    serializer, _ = build_serde(config.registry)
    topic = IDENTIFIERS_OBSERVED.name(config.topics)
    async with EventProducer(config, serializer) as producer:
        await producer.publish(Outgoing(topic, "k", identifiers_observed("+33612345670", sequence=0)))
    tombstones = AIOKafkaProducer(**connection_options(config.kafka))
    await tombstones.start()
    try:
        await tombstones.send_and_wait(topic, key=b"k", value=None)
    finally:
        await tombstones.stop()
    records = await read_topics(config, [IDENTIFIERS_OBSERVED])
    assert (records.undecodable, [record.tombstone for record in records.records]) == (0, [False, True])
    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", bootstrap_servers)
    monkeypatch.setenv("OMNIBUS_TOPICS__PREFIX", config.topics.prefix)
    result = await asyncio.to_thread(CliRunner().invoke, omnibus, ["topics", "read", "identity.observed.v1"])
    assert result.exit_code == 0, result.output
    assert [json.loads(text)["event"].get("tombstone") for text in result.stdout.splitlines()] == [None, True]


def test_last_n_is_the_newest_n_in_total_across_partitions() -> None:
    """tester9 #8: ``--last 3`` gave 3 records per partition (9 on a 3-partition topic); it is 3 in total."""
    # each partition's last 3, as read_topics gives them with last=3
    records = [Replayed("t", partition, offset, None, None, timestamp_ms=offset + (1_000 if partition == 1 else 0))
               for partition in range(3) for offset in (7, 8, 9)]  # partition 1 holds the newest three
    shown = newest(records, 3)
    assert [(r.partition, r.offset) for r in shown] == [(1, 7), (1, 8), (1, 9)]
    assert len(newest(records, 20)) == 9  # fewer records than asked: all of them, oldest first
    assert newest(records, 20)[0].offset == 7


def test_records_that_do_not_decode_are_printed_by_their_size_and_the_error_line_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """tester19 F21: without the registry, stderr said the records "are left out of this answer" while stdout
    printed each as ``{"undecodable": "<186 bytes>"}``; the count is of the lines printed (``--last``), not read."""
    from bus import undecodable
    from processors.replay import TopicsReplay, read_cli

    topic = "omnibus.identity.observed.v1"

    async def read_without_the_registry(settings: object, specs: object, last: int) -> TopicsReplay:
        records = [Replayed(topic, partition, 0, None, None, b"\x00" * 186, timestamp_ms=partition)
                   for partition in range(3)]
        undecodable.note(topic, None, len(records))  # what the reader notes: all it read
        return TopicsReplay(records, len(records))

    monkeypatch.setattr(read_cli, "read_topics", read_without_the_registry)
    result = CliRunner().invoke(omnibus, ["topics", "read", "identity.observed.v1", "--last", "2"],
                                env={"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": "b:1", "OMNIBUS_REGISTRY__URL": ""})
    assert result.exit_code == undecodable.UNDECODABLE_EXIT
    assert [json.loads(printed)["event"] for printed in result.stdout.splitlines()] == \
        [{"undecodable": "<186 bytes>"}] * 2
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: 2 records did not decode") and "left out" not in error
    assert f"are shown only by their size in this answer ({topic}: 2)" in error


def _read_of(records: int, earlier: int, monkeypatch: pytest.MonkeyPatch) -> object:
    """``topics read identity.observed.v1`` as it answers when the topic's partitions gave ``records`` records (the
    last ``--last`` of each) and ``earlier`` offsets were left before them."""
    from processors.replay import TopicsReplay, read_cli

    async def read(settings: object, specs: object, last: int) -> TopicsReplay:
        return TopicsReplay([Replayed("omnibus.identity.observed.v1", 0, offset, None, None, None, timestamp_ms=offset)
                             for offset in range(earlier, earlier + records)], earlier=earlier)

    monkeypatch.setattr(read_cli, "read_topics", read)
    return CliRunner().invoke(omnibus, ["topics", "read", "identity.observed.v1"],
                              env={"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": "b:1", "OMNIBUS_REGISTRY__URL": ""})


def test_the_default_20_says_on_stderr_that_older_records_were_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """tester28 F11: without ``--last`` 20 of 1,500 records were printed and nothing said so; the user concluded that
    only 20 events had landed."""
    from processors.replay.read_cli import DEFAULT_LAST

    result = _read_of(DEFAULT_LAST, 1_480, monkeypatch)
    assert len(result.stdout.splitlines()) == DEFAULT_LAST == 20
    assert result.stderr.strip().splitlines()[-1] == \
        "20 records shown, the newest (--last 20); older ones are left out: --last N for more"


def test_older_records_read_from_other_partitions_but_not_printed_are_said_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each partition gives its last N, so the newest N of them all can leave records read but not printed."""
    result = _read_of(30, 0, monkeypatch)  # e.g. three partitions of 10 records each, nothing before them
    assert len(result.stdout.splitlines()) == 20 and "older ones are left out" in result.stderr


@pytest.mark.parametrize("records", [0, 5, 20])
def test_nothing_is_said_when_every_record_of_the_topic_was_printed(records: int,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    result = _read_of(records, 0, monkeypatch)
    assert len(result.stdout.splitlines()) == records and "left out" not in result.stderr

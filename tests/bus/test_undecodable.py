"""bus/undecodable.py: an operator command whose records did not decode says so and fails, after its answer
(tester15 F10: without ``OMNIBUS_REGISTRY__URL``, ``offers list`` answered "0 offer(s)" with 7 live, exit 0)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from bus import undecodable
from bus.errors import DeserializationError, RawRecord
from bus.replay import Replay
from bus.topics import DEAD_LETTERS, HANDOFF_EVENTS, MARKETING_OFFERS
from omnibus.cli import app as omnibus
from tests.support.groups import caught_up
from tests.support.settings import settings_with_topics


def test_a_command_that_skipped_records_writes_its_answer_then_an_error_and_exits_65(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from processors.offers import cli

    async def offers_written_with_another_registry(settings: Any) -> dict[str, Any]:
        undecodable.note("omnibus.marketing.offers.v1", None, 7)  # what the reader notes (broker test below)
        return {}

    monkeypatch.setattr(cli, "current_offers", offers_written_with_another_registry)
    result = CliRunner().invoke(omnibus, ["offers", "list"], env={"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": "b:1",
                                                                 "OMNIBUS_REGISTRY__URL": ""})
    assert result.exit_code == undecodable.UNDECODABLE_EXIT == 65
    assert "0 offers" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == (
        "error: 7 records did not decode with no schema registry (OMNIBUS_REGISTRY__URL is unset: registry-free "
        "mode) and are left out of this answer (omnibus.marketing.offers.v1: 7); set OMNIBUS_REGISTRY__URL to the "
        "registry they were written with")
    monkeypatch.setattr(cli, "current_offers", lambda settings: _nothing())  # the next command starts afresh
    again = CliRunner().invoke(omnibus, ["offers", "list"], env={"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": "b:1"})
    assert again.exit_code == 0 and "error" not in again.stderr


async def _nothing() -> dict[str, Any]:
    return {}


async def _written_with_a_registry(bootstrap_servers: str) -> Any:
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        for spec in (MARKETING_OFFERS, DEAD_LETTERS):  # a value written with a registry's schema id, read without
            await producer.send_and_wait(spec.name(settings.topics), b"\x00\x00\x00\x00\x07\x02ab", key=b"k")
    finally:
        await producer.stop()
    return settings


@pytest.mark.kafka
def test_offers_and_dead_letters_that_do_not_decode_fail_the_listing(bootstrap_servers: str) -> None:
    settings = asyncio.run(_written_with_a_registry(bootstrap_servers))
    env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": settings.topics.prefix,
           "OMNIBUS_REGISTRY__URL": "", "OMNIBUS_METRICS__ENABLED": "false"}
    for command, topic in ((["offers", "list"], MARKETING_OFFERS), (["deadletters", "list"], DEAD_LETTERS)):
        result = CliRunner().invoke(omnibus, command, env=env)
        assert result.exit_code == 65, (command, result.output)
        assert "1 record did not decode" in result.stderr and topic.name(settings.topics) in result.stderr


def test_the_error_line_says_whether_the_records_were_left_out_or_shown_by_their_size() -> None:
    """tester19 F21: ``topics read`` prints undecodable records by their size; the line said "left out"."""
    undecodable.reset()
    undecodable.note("a", None, 2, shown=True)
    assert "and are shown only by their size in this answer (a: 2)" in (undecodable.skipped_message() or "")
    undecodable.note("b", None)
    assert "and are left out of this answer or shown only by their size (a: 2, b: 1)" in \
        (undecodable.skipped_message() or "")
    undecodable.reset()
    undecodable.note("b", None)
    assert "and are left out of this answer (b: 1)" in (undecodable.skipped_message() or "")
    undecodable.reset()


def _poison(topic: str, partition: int, offset: int) -> DeserializationError:
    """What a deserializer raises for a value in no framing Omnibus writes (tests/bus/serde/test_framing.py)."""
    record = RawRecord(b'{"not":"avro"}', topic=topic, partition=partition, offset=offset)
    return DeserializationError("not in the Confluent wire format", record=record, unframed=True)


def test_tester28_f7_a_poison_record_is_named_by_its_position_and_the_command_keeps_its_exit_status(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """tester28 F7: one poison record on ``handoff.events.v1``, dead-lettered by the processors, made every
    ``omnibus handoffs`` command exit 65 with the registry hint. It is left out, named on a ``warning:`` line that
    points at ``omnibus deadletters``, and the exit status is the command's own."""
    from processors.handoffs import cli, command_cli

    async def a_poison_record_on_the_topic(settings: Any, spec: Any, **_: Any) -> Replay:
        undecodable.note_error(_poison(spec.name(settings.topics), 0, 12), settings.registry.url)  # as the reader
        return Replay([], undecodable=1)

    monkeypatch.setattr(cli, "replay_topic", a_poison_record_on_the_topic)
    monkeypatch.setattr(command_cli, "replay_topic", a_poison_record_on_the_topic)
    env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": "b:1", "OMNIBUS_REGISTRY__URL": "http://registry:8081",
           "OMNIBUS_METRICS__ENABLED": "false", "COLUMNS": "200"}
    report = CliRunner().invoke(omnibus, ["report", "handoffs", "--month", "2026-11"], env=env)
    missing = CliRunner().invoke(omnibus, ["handoffs", "show", "WEB-REQ-5501"], env=env)
    for result, status in ((report, 0), (missing, 2)):  # 2: no handoff with this id (docs/handoffs.md)
        assert result.exit_code == status, result.output
        assert "did not decode" not in result.stderr and "OMNIBUS_REGISTRY__URL" not in result.stderr
        assert ("warning: 1 record in no wire format Omnibus writes (written by a producer outside Omnibus) are "
                "left out of this answer: omnibus.handoff.events.v1 partition 0 offset 12; the processors "
                "dead-letter such records: omnibus deadletters list") in result.stderr, result.stderr


def test_poison_records_past_the_named_ones_are_counted_and_a_registry_mismatch_still_fails() -> None:
    undecodable.reset()
    for offset in range(undecodable.POISON_NAMED + 3):
        undecodable.note_error(_poison("t", 1, offset), None)
    message = undecodable.poison_message() or ""
    assert message.startswith("13 records in no wire format") and "t partition 1 offset 9 and 3 more;" in message
    assert undecodable.skipped_message() is None
    framed = DeserializationError("schema id 7 unknown", record=RawRecord(b"\0\0\0\0\7", topic="t", partition=0))
    undecodable.note_error(framed, None)
    assert "1 record did not decode with no schema registry" in (undecodable.skipped_message() or "")
    undecodable.reset()


async def _poison_on_handoff_events(bootstrap_servers: str) -> Any:
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        for value in (b'{"not":"avro"}', b"\x11body"):  # in neither framing (tester28 F7's other kinds of poison)
            await producer.send_and_wait(HANDOFF_EVENTS.name(settings.topics), value, key=b"WEB-REQ-5501")
    finally:
        await producer.stop()
    return settings


@pytest.mark.kafka
def test_tester28_f7_handoffs_verify_and_topics_read_answer_past_poison_records(bootstrap_servers: str) -> None:
    """The readers themselves (``bus.replay``, ``processors.replay``) on a broker: the commands that read
    ``handoff.events.v1`` name its two poison records and exit as they would without them."""
    settings = asyncio.run(_poison_on_handoff_events(bootstrap_servers))
    asyncio.run(caught_up(settings, ("handoffs",)))  # as a tracker that read them: verify judges, not waits
    topic = HANDOFF_EVENTS.name(settings.topics)
    env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": settings.topics.prefix,
           "OMNIBUS_REGISTRY__URL": "", "OMNIBUS_METRICS__ENABLED": "false", "COLUMNS": "200"}
    commands = ((["report", "handoffs", "--month", "2026-11"], 0, "left out of this answer"),
                (["handoffs", "show", "WEB-REQ-5501"], 2, "left out of this answer"),
                (["verify", "--processor", "handoffs"], 0, "left out of this answer"),
                (["topics", "read", "handoff.events.v1"], 0, "shown only by their size in this answer"))
    for command, status, fate in commands:
        result = CliRunner().invoke(omnibus, command, env=env)
        assert result.exit_code == status, (command, result.output)
        assert "did not decode" not in result.stderr, (command, result.stderr)
        assert (f"2 records in no wire format Omnibus writes (written by a producer outside Omnibus) are {fate}: "
                f"{topic} partition 0 offset 0, {topic} partition 0 offset 1; the processors dead-letter such "
                "records: omnibus deadletters list") in result.stderr, (command, result.stderr)

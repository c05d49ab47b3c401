"""bus/undecodable.py: an operator command whose records did not decode says so and fails, after its answer
(tester15 F10: without ``OMNIBUS_REGISTRY__URL``, ``offers list`` answered "0 offer(s)" with 7 live, exit 0)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from bus import undecodable
from bus.topics import DEAD_LETTERS, MARKETING_OFFERS
from omnibus.cli import app as omnibus
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
    assert "0 offer(s)" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == (
        "error: 7 record(s) did not decode with no schema registry (OMNIBUS_REGISTRY__URL is unset: registry-free "
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
        assert "1 record(s) did not decode" in result.stderr and topic.name(settings.topics) in result.stderr


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

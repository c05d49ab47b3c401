"""The reported case on the project's own broker: a counter transaction whose ``follow_up`` names no ``handoff_id``,
uploaded to the real branch adapter, is published without the follow-up, listed in the answer's
``dropped_follow_ups``, and dead-lettered as a follow-up; ``deadletters redrive`` refuses it again as a follow-up,
then, corrected, publishes the follow-up alone and says so (it said "handoff" at each step)."""

from __future__ import annotations

import copy
import json
from contextlib import AsyncExitStack

import pytest

from bus.topics import HANDOFF_EVENTS
from tests.adapters.branch.support import TOKENS, sample, start_branch
from tests.processors.deadletters.test_cli import until_dead_letters
from tests.processors.deadletters.test_sealed_handoffs_broker import KEY, omnibus_cli
from tests.support.kafka_io import read_events
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]
CASE = "REC-2026-000451"


async def test_a_refused_follow_up_is_dead_lettered_and_re_driven_as_a_follow_up(bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers, dead_letters={"seal_key": KEY}, log={"level": "WARNING"})
    upload = copy.deepcopy(sample("transaction_with_identifiers"))
    upload["events"][0]["transaction"]["follow_up"] = {"summary": "brought the bank statement"}  # no handoff_id
    async with AsyncExitStack() as stack:
        client = await start_branch(stack, settings)
        answer = await client.post(json.dumps(upload).encode(), TOKENS[upload["terminal_id"]])
    assert answer.accepted, answer
    (dropped,) = answer.extra["body"]["dropped_follow_ups"]
    assert dropped["reason"].startswith("'transaction.follow_up.handoff_id' is required")
    assert "dropped_handoffs" not in answer.extra["body"]
    (letter,) = await until_dead_letters(settings, 1)
    assert letter.fields["reason"].startswith("follow-up refused, the rest of the record was published: "), letter

    run = omnibus_cli(bootstrap_servers, settings, {"OMNIBUS_ADAPTER_BRANCH__TERMINAL_TOKENS": json.dumps(TOKENS)})
    who = ("--by", "ops-marta", "--why", "the clerk left the case id out")
    as_is = await run("deadletters", "redrive", letter.id, *who)
    assert as_is.exit_code == 1 and "the follow-up is refused again" in as_is.stdout, as_is.output
    done = await run("deadletters", "redrive", letter.id, "--set", f"transaction.follow_up.handoff_id={CASE}", *who)
    assert done.exit_code == 0 and done.stdout.startswith("redriven"), done.output
    assert "(1 event: the follow-up only, the rest of its record was published" in done.stdout, done.output
    assert "handoff only" not in done.stdout
    followed = [e for e in await read_events(settings, HANDOFF_EVENTS)
                if e.event.schema == "omnibus.handoff.HandoffFollowedUp"]
    assert [e.event.value["handoff_id"] for e in followed] == [CASE]

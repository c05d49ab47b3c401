"""``TopicFollower._deliver``: a reader that raises must not end the follower (no broker needed)."""

from __future__ import annotations

import pytest
from aiokafka import ConsumerRecord

from bus import registry_outage
from bus.errors import SchemaRegistryError
from bus.follow import TopicFollower
from bus.topics import CUSTOMER_IDENTIFIERS
from tests.support.settings import isolated_settings


def _record(offset: int) -> ConsumerRecord:
    return ConsumerRecord("t", 0, offset, 0, 0, b"k", b"v", None, 1, 1, [])


def test_a_reader_that_raises_is_skipped_for_that_record_and_the_others_still_read_it() -> None:
    """Found on main: the assignment repair's listener raised (consumer not started) inside the follower's
    task, which ended it silently: from then on nobody read the topic, and ``stop`` re-raised the error."""
    follower = TopicFollower(isolated_settings("127.0.0.1:9"), [CUSTOMER_IDENTIFIERS], "test-follower")
    seen: list[int] = []

    def broken(record: ConsumerRecord) -> None:
        if record.offset == 0:
            raise RuntimeError("a reader's bug")

    follower.listeners += [broken, lambda record: seen.append(record.offset)]
    follower._deliver(_record(0))
    follower._deliver(_record(1))
    assert seen == [0, 1]


class Follower(TopicFollower):
    def on_record(self, record: ConsumerRecord) -> None:
        """Nothing of its own: the listeners read."""


async def test_a_reader_that_meets_a_registry_outage_is_called_again_until_it_answers_not_skipped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast-path view and the handoff directory skipped the rows they could not decode while the registry was
    down: their replica missed those rows until a restart. Now the follower waits for the registry: the reader that
    met the outage reads the record again, the readers after it read it once, those before it are not called again."""
    slept: list[float] = []

    async def no_wait(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(registry_outage.asyncio, "sleep", no_wait)
    follower = Follower(isolated_settings("127.0.0.1:9"), [CUSTOMER_IDENTIFIERS], "test-follower")
    before: list[int] = []
    decoded: list[int] = []
    after: list[int] = []
    failures = [2]

    def decoding(record: ConsumerRecord) -> None:
        if failures[0]:
            failures[0] -= 1
            raise SchemaRegistryError("schema registry at http://r unreachable", retriable=True)
        decoded.append(record.offset)

    follower.listeners += [lambda record: before.append(record.offset), decoding,
                           lambda record: after.append(record.offset)]
    waiting = follower._deliver(_record(0))
    assert waiting == 2 and before == [0] and decoded == [] and after == []  # on_record is reader 0
    await follower._deliver_when_registry_answers(_record(0), waiting)
    assert before == [0] and decoded == [0] and after == [0] and len(slept) == 1  # the second failure waited
    assert not registry_outage.OUTAGE.ongoing()
    assert follower._deliver(_record(1)) is None and decoded == [0, 1]

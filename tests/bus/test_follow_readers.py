"""``TopicFollower._deliver``: a reader that raises must not end the follower (no broker needed)."""

from __future__ import annotations

from aiokafka import ConsumerRecord

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

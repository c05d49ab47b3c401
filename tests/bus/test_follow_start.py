"""``TopicFollower.start`` through a broker outage: a transient failure is tried again, each try's consumer closed
(no broker needed: the try itself is replaced)."""

from __future__ import annotations

from aiokafka.errors import KafkaTimeoutError

from bus.config import OmnibusSettings
from bus.follow import TopicFollower


class Follower(TopicFollower):
    def on_record(self, record: object) -> None:
        return None


async def test_a_start_that_meets_an_outage_is_tried_again_until_the_broker_answers(monkeypatch) -> None:
    follower = Follower(OmnibusSettings(), [], "test")
    tries: list[int] = []

    async def assign() -> None:
        tries.append(1)
        if len(tries) < 3:  # the end offsets not answered within the request timeout, twice
            raise KafkaTimeoutError("Failed to get offsets by times in 30000 ms")

    async def no_wait(_: float) -> None:
        return None

    monkeypatch.setattr(follower, "_assign", assign)
    monkeypatch.setattr("bus.publish_retry.asyncio.sleep", no_wait)
    await follower.start()
    assert len(tries) == 3 and follower.caught_up  # nothing to catch up to: caught up at once
    await follower.stop()


async def test_an_error_that_is_not_transient_is_raised_at_once(monkeypatch) -> None:
    follower = Follower(OmnibusSettings(), [], "test")
    tries: list[int] = []

    async def assign() -> None:
        tries.append(1)
        raise ValueError("a programming error")

    monkeypatch.setattr(follower, "_assign", assign)
    try:
        await follower.start()
    except ValueError:
        pass
    assert tries == [1]

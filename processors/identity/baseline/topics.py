"""The baseline's two internal topics (between its own stages only; not in ``bus.topics``).

The baseline is a yardstick for the benchmark, not a deployed processor: its topics are created by the
worker itself (``worker.BaselineWorker.run``) and never appear in ``deploy/``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from bus.config import TopicSettings
from bus.topics import TopicSpec


def baseline_topics() -> tuple[TopicSpec, TopicSpec]:
    """``(decide log, resolved work)``. Built here rather than declared as module constants: the baseline is a
    benchmark yardstick, never deployed, so the deploy guard that gives every TopicSpec a processor's
    modules declare an ACL (tests/deploy/test_k8s_validate.py) must not see them.

    The decide log has ONE partition, so one writer decides every event in order, and is kept forever:
    the decider rebuilds its state by replaying it from the start (its only durable form). The resolved
    work (apply an event, hand a merged customer's profile on, absorb it) is keyed by customer id.
    """
    return (
        TopicSpec("identity.baseline.decide.v1", "First visit of every saga, in decision order (graph wire format).",
                  key="event id", retention_ms=-1, partitions=1, internal=True),
        TopicSpec("identity.baseline.resolved.v1", "Events resolved by the baseline, by customer (msgpack).",
                  key="customer id", retention_ms=-1, internal=True),
    )


def decide_topic(topics: TopicSettings) -> str:
    return baseline_topics()[0].name(topics)


def resolved_topic(topics: TopicSettings) -> str:
    return baseline_topics()[1].name(topics)


APPLY, MERGE, ABSORB = "apply", "merge", "absorb"  # kinds of a RESOLVED record (field ``k``)



def encode_work(work: dict[str, Any]) -> bytes:
    """msgpack: the records of these topics are the baseline's own (bytes travel as they are)."""
    return msgspec.msgpack.encode(work)


def decode_work(data: bytes | None) -> dict[str, Any]:
    """The map in ``data``; ``ValueError`` when it is not one."""
    try:
        work = msgspec.msgpack.decode(data or b"")
    except msgspec.DecodeError as exc:
        raise ValueError(f"not a baseline record: {exc}") from None
    if not isinstance(work, dict):
        raise ValueError("a baseline record is a map")
    return work

"""The baseline's two internal topics (between its own stages only; not in ``bus.topics``).

The baseline is a yardstick for the benchmark, not a deployed processor: its topics are created by the
worker itself (``worker.BaselineWorker.start``) and never appear in ``deploy/``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from bus.topics import TopicSpec

# The decide log: one partition, so one writer decides every event in order. Kept forever: the decider
# rebuilds its state by replaying it from the start (the log is the state's only durable form).
DECIDE = TopicSpec("identity.baseline.decide.v1",
                   "First visit of every saga, in decision order (the graph wire format).", key="event id",
                   retention_ms=-1, partitions=1, internal=True)
# Per-customer work of the profile stage: apply an event, hand a merged customer's profile on, absorb it.
RESOLVED = TopicSpec("identity.baseline.resolved.v1", "Events resolved by the baseline, by customer (msgpack).",
                     key="customer id", retention_ms=-1, internal=True)
TOPICS = (DECIDE, RESOLVED)

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

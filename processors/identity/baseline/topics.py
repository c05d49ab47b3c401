"""The baseline's two internal topics (JSON records, between its own stages only; not in ``bus.topics``).

The baseline is a yardstick for the benchmark, not a deployed processor: its topics are created by the
worker itself (``worker.BaselineWorker.start``) and never appear in ``deploy/``.
"""

from __future__ import annotations

import json
from typing import Any

from bus.topics import TopicSpec

# The decide log: one partition, so one writer decides every event in order. Kept forever: the decider
# rebuilds its state by replaying it from the start (the log is the state's only durable form).
DECIDE = TopicSpec("identity.baseline.decide.v1", "Sagas of the baseline resolver, in decision order (JSON).",
                   key="event id", retention_ms=-1, partitions=1, internal=True)
# Per-customer work of the profile stage: apply an event, hand a merged customer's profile on, absorb it.
RESOLVED = TopicSpec("identity.baseline.resolved.v1", "Events resolved by the baseline, by customer (JSON).",
                     key="customer id", retention_ms=-1, internal=True)
TOPICS = (DECIDE, RESOLVED)

APPLY, MERGE, ABSORB = "apply", "merge", "absorb"  # kinds of a RESOLVED record (field ``k``)


def encode_message(message: dict[str, Any]) -> bytes:
    """Compact JSON: the records of these topics are the baseline's own, read by no one else."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def decode_json(data: bytes | None) -> dict[str, Any]:
    """The object in ``data``; ``ValueError`` when it is not a JSON object."""
    message = json.loads(data or b"null")
    if not isinstance(message, dict):
        raise ValueError("a baseline record is a JSON object")
    return message

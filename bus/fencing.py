"""Fencing a worker that lost its partitions: it must not publish what it decided before (#13 build 1).

Two parts, because neither alone is enough without Kafka transactions:

* ``AssignmentFence`` (here): a worker refuses to publish the outputs of a batch if any of its
  partitions was revoked while the batch ran, or is no longer assigned. That closes the common window
  (a rebalance during a batch) but not all of it: a worker paused past the session timeout learns it
  was fenced out only at its next heartbeat, and a publish already in flight when it froze completes.
* A version on every state row that readers compare (``processors.identity.assignments``): the row
  decided later carries the higher version whatever the order it is written in, so a stale write that
  slips through is ignored by the reader rule.

A transactional producer tied to the group generation (KIP-447) would fence at the broker instead,
but faust's exactly_once mode has open loss and duplicate bugs and our producer runs outside faust
(see ``bus.app``), so the project keeps at-least-once plus versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bus.metrics import PUBLISH_FENCED


class AssignmentFence:
    """Counts revocations; a batch may publish only if none happened since it started.

    ``assigned``: returns the worker's current assignment (``(topic, partition)`` pairs or aiokafka/
    faust ``TP`` tuples). Call ``revoked()`` from the app's ``on_partitions_revoked`` signal.
    """

    def __init__(self, assigned: Callable[[], Iterable[Any]], component: str) -> None:
        self._assigned = assigned
        self._component = component
        self._revocations = 0

    def revoked(self, *_: Any, **__: Any) -> None:
        self._revocations += 1

    def stamp(self) -> int:
        """Taken when a batch starts; handed back to ``allows``."""
        return self._revocations

    def allows(self, stamp: int, partitions: Iterable[tuple[str, int]]) -> bool:
        """True when no partition was revoked since ``stamp`` and every one in ``partitions`` is still ours."""
        owned = {(tp[0], tp[1]) for tp in self._assigned()}
        allowed = stamp == self._revocations and all((topic, p) in owned for topic, p in partitions)
        if not allowed:
            PUBLISH_FENCED.labels(component=self._component).inc()
        return allowed

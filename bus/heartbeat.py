"""A liveness signal for a process that serves no HTTP of its own: its loop beats, ``/live`` reads the beat.

The legacy outbox relay served only ``/metrics``, so Kubernetes had no probe for it: a relay wedged on a database
statement that never returns was never restarted. Its loop calls ``Heartbeat.beat()`` at each step
(each batch, each wait for work, each wait for the advisory lock or after an outage); the metrics server answers
``GET /live`` from its own thread (``bus.metrics.serve_metrics``), 200 while the last beat is at most ``within_s``
seconds old, else 503, with the probe body every process answers (``bus.readiness``). Because the answer comes from
another thread, a loop blocked on a call that never returns stops beating and fails the probe.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bus.readiness import ProbeBody, probe_body


@dataclass
class Heartbeat:
    """``component``: as in metrics (``adapter.legacy``); ``within_s``: the longest gap between beats of a loop that
    still moves (seconds); ``clock``: seconds, monotonic. Counts from creation until the first beat."""

    component: str
    within_s: float
    clock: Callable[[], float] = time.monotonic
    last: float = field(init=False)

    def __post_init__(self) -> None:
        self.last = self.clock()

    def beat(self) -> None:
        self.last = self.clock()

    def silent_s(self) -> float:
        return max(0.0, self.clock() - self.last)

    def live(self) -> tuple[bool, ProbeBody]:
        """(alive, the probe body ``/live`` answers). Not alive: no beat for more than ``within_s``; the body's
        ``ready`` follows ``alive`` (a process with no other probe is ready when it moves)."""
        silent = self.silent_s()
        if silent <= self.within_s:
            return True, probe_body(self.component)
        return False, probe_body(self.component, ready=False,
                                 reason=f"its loop has not moved for {silent:.0f} s (limit {self.within_s:g} s)")

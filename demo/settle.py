"""How long the demo waits for its customer's screen pop, and what it says when that never completes.

A fixed wait failed on a loaded machine while the processors were still working. ``Settling`` keeps waiting
while something still moves (the profile grows, or records keep landing on the topics) and gives up only
after ``IDLE_S`` seconds without progress, or ``CAP_S`` seconds in all. ``missing`` names what the profile
still lacks, step by step, so a failure says which channel or step never arrived.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

IDLE_S = 90.0  # seconds without any progress before the demo gives up
CAP_S = 600.0  # seconds of waiting in all, progress or not
CHANNELS = ("WEB", "CALL_CENTER", "BRANCH")
TRY_NEXT = (
    "What to try: rerun `bash scripts/demo.sh` (a busy machine slows the processors: check `uptime`, or use "
    "fewer customers with `--customers 4`); the processors' warnings are the JSON lines on stderr above; "
    "`bash scripts/demo.sh --keep-running` leaves the stack up to look with `omnibus verify`."
)


@dataclass
class Settling:
    """Waiting for progress. ``observe(state, now)`` (``now`` in seconds, any monotonic clock) says whether to
    keep waiting: ``state`` is anything that changes when the processors make progress."""

    started_at: float
    idle_s: float = IDLE_S
    cap_s: float = CAP_S
    _last: Hashable | None = field(default=None, init=False)
    _moved_at: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._moved_at = self.started_at

    def observe(self, state: Hashable, now: float) -> bool:
        if state != self._last:
            self._last, self._moved_at = state, now
        return now - self._moved_at < self.idle_s and now - self.started_at < self.cap_s

    def why_stopped(self, now: float) -> str:
        if now - self.started_at >= self.cap_s:
            return f"still not complete after {self.cap_s:.0f} s in all"
        return f"no progress for {now - self._moved_at:.0f} s (waited {now - self.started_at:.0f} s in all)"


def fingerprint(profile: dict[str, Any] | None) -> Hashable:
    """What of a screen-pop profile shows progress: its contacts per channel, products and handoff states."""
    if profile is None:
        return None
    contacts = profile.get("recent_contacts") or []
    products = (profile.get("products") or {}).get("products") or []
    handoffs = profile.get("open_handoffs") or []
    return (tuple(sorted(str(c.get("channel")) for c in contacts)), len(products),
            tuple(sorted(str(h.get("status")) for h in handoffs)))


def missing(profile: dict[str, Any] | None) -> list[str]:
    """The steps the profile does not show yet, in the demo's order (empty: complete)."""
    if profile is None:
        return ["identity never answered the e-mail lookup: the web hall's identify was not linked yet"]
    seen = {contact.get("channel") for contact in profile.get("recent_contacts") or []}
    steps = [f"no {channel} contact linked to the customer yet" for channel in CHANNELS if channel not in seen]
    if not (profile.get("products") or {}).get("products"):
        steps.append("no products yet (the nightly billing batch files)")
    if any(h.get("status") == "ROUTED" for h in profile.get("open_handoffs") or []):
        steps.append("a handoff is still ROUTED (the finance desk's acknowledgement has not arrived)")
    return steps

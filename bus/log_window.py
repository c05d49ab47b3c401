"""One line per window, not one per occurrence: the first occurrence of a kind is logged at once, later ones at most
once per ``window_s`` seconds with how many happened since the last line (an adapter's 503s, the producer's
retries). Only counts: what is logged is the caller's business."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable


class LogWindow:
    """``due(kind)``: count one occurrence of ``kind``; returns how many occurred since its last line (this one
    included) when a line is due now, else None. ``closes_in`` and ``take`` let a caller write the held count when
    the window ends rather than with the next occurrence. ``clock``: seconds, monotonic."""

    def __init__(self, window_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self._clock = clock
        self._last: dict[Hashable, float] = {}  # kind -> when its last line was due
        self._held: dict[Hashable, int] = {}  # kind -> occurrences since that line

    def due(self, kind: Hashable = None) -> int | None:
        held = self._held.get(kind, 0) + 1
        now, last = self._clock(), self._last.get(kind)
        if last is not None and now - last < self.window_s:
            self._held[kind] = held
            return None
        self._last[kind], self._held[kind] = now, 0
        return held

    def closes_in(self, kind: Hashable = None) -> float:
        """Seconds until the window of ``kind``'s last line ends (0 when it has, or there was none)."""
        last = self._last.get(kind)
        return 0.0 if last is None else max(0.0, last + self.window_s - self._clock())

    def take(self, kind: Hashable = None) -> int:
        """The occurrences of ``kind`` held since its last line, now written by the caller: 0 when none (nothing to
        write); otherwise the count is reset and the next window starts now, as with a line ``due`` gave."""
        held = self._held.get(kind, 0)
        if held:
            self._last[kind], self._held[kind] = self._clock(), 0
        return held

    def held_kinds(self) -> list[Hashable]:
        """The kinds with occurrences held since their last line."""
        return [kind for kind, held in self._held.items() if held]

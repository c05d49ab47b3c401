"""One line per window, not one per occurrence: the first occurrence of a kind is logged at once, later ones at most
once per ``window_s`` seconds with how many happened since the last line (an adapter's 503s, the producer's
retries). Only counts: what is logged is the caller's business."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable


class LogWindow:
    """``due(kind)``: count one occurrence of ``kind``; returns how many occurred since its last line (this one
    included) when a line is due now, else None. ``clock``: seconds, monotonic."""

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

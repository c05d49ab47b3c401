"""One warning line per outage, not one per refused request: the adapter's own record that it answers 503.

tester12: while Kafka or the schema registry was down, an adapter answered 503 (``omnibus_adapter_unavailable_total``
counted them) and wrote no line of its own: aiokafka's folded lines for Kafka, nothing at all for the registry. Each
503 now goes through ``OutageLog.note``: the first of an outage is logged at once, then at most one line per
``window_s`` seconds with how many were answered since the last line. The reason is the infrastructure error's text
(cut to ``MAX_REASON_CHARS``), never the input: no identifier value can reach the log through it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bus.log_window import LogWindow

WINDOW_S = 30.0
MAX_REASON_CHARS = 300
MESSAGE = "answering 503 (retry later): infrastructure unavailable"
# A command importing files has no sender to answer: it waits and tries the same lines again (tester15 F13).
IMPORT_MESSAGE = "infrastructure unavailable: the import waits and tries again"


class OutageLog:
    """Rate-limited warnings for one adapter's 503 answers. ``clock``: seconds, monotonic; ``emit``: the logger's
    ``warning`` (``emit(message, adapter=, reason=, answered=)``, ``answered``: the 503s since the last line,
    this one included); ``message``: ``MESSAGE``, or ``IMPORT_MESSAGE`` in a command importing files."""

    def __init__(self, adapter: str, emit: Callable[..., Any], *, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic, message: str = MESSAGE) -> None:
        self.adapter = adapter
        self._emit = emit
        self.message = message
        self._window = LogWindow(window_s, clock=clock)

    def note(self, reason: str) -> None:
        """One 503 answered for ``reason``: logged if none was in the last ``window_s`` seconds, else counted."""
        answered = self._window.due()
        if answered is not None:
            self._emit(self.message, adapter=self.adapter, reason=reason[:MAX_REASON_CHARS], answered=answered,
                       retry_window_s=self._window.window_s)

"""One warning line per outage, not one per refused request: the adapter's own record that it answers 503.

while Kafka or the schema registry was down, an adapter answered 503 (``omnibus_adapter_unavailable_total``
counted them) and wrote no line of its own: aiokafka's folded lines for Kafka, nothing at all for the registry. Each
503 now goes through ``OutageLog.note``: the first of an outage is logged at once, then at most one line per
``window_s`` seconds with how many were answered since the last line. The reason is the infrastructure error's text
(cut to ``MAX_REASON_CHARS``), never the input: no identifier value can reach the log through it.

a command importing files waits for Kafka up to ``producer.give_up_after_s`` (600 s) before its one
``Unavailable``; it said nothing meanwhile. ``AdapterPublisher`` now notes each ``WINDOW_S`` of waiting here, and
``ended`` writes one line when Kafka acknowledges again after a logged outage (the next outage logs at once).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bus.log_window import LogWindow

WINDOW_S = 30.0
MAX_REASON_CHARS = 300
MESSAGE = "answering 503 (retry later): infrastructure unavailable"
# A command importing files has no sender to answer: it waits and tries the same lines again.
IMPORT_MESSAGE = "infrastructure unavailable: the import waits and tries again"
# The line an outage ends with names what was down: after a schema registry outage it said "Kafka acknowledged"
# (``{again}``: ``AGAIN`` of what ``note`` was told was down).
ENDED_MESSAGE = "infrastructure available again: {again}"
IMPORT_ENDED_MESSAGE = "infrastructure available again: {again}, the import goes on"
KAFKA, REGISTRY = "Kafka", "the schema registry"
AGAIN = {
    frozenset({KAFKA}): "Kafka acknowledged",
    frozenset({REGISTRY}): "the schema registry answers",
    frozenset({KAFKA, REGISTRY}): "the schema registry answers and Kafka acknowledged",
}
# Kafka answered without a topic the adapter publishes to: configuration, logged as an error.
MISSING_TOPIC_MESSAGE = "a topic does not exist: configuration, not an outage"


class OutageLog:
    """Rate-limited warnings for one adapter's 503 answers. ``clock``: seconds, monotonic; ``emit``: the logger's
    ``warning`` (``emit(message, adapter=, reason=, answered=)``, ``answered``: the 503s since the last line,
    this one included, ``down``: what did not answer, ``KAFKA`` or ``REGISTRY``); ``message``: ``MESSAGE``, or
    ``IMPORT_MESSAGE`` in a command importing files; ``emit_ended`` (the logger's ``info``; None: ``emit``) writes
    ``ended_message`` (``ENDED_MESSAGE`` or ``IMPORT_ENDED_MESSAGE``, its ``{again}`` naming what was down during the
    outage) with ``outage_s``, the seconds since the outage's first line."""

    def __init__(self, adapter: str, emit: Callable[..., Any], *, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic, message: str = MESSAGE,
                 emit_ended: Callable[..., Any] | None = None, ended_message: str = ENDED_MESSAGE) -> None:
        self.adapter = adapter
        self._emit = emit
        self._emit_ended = emit_ended or emit
        self.message, self.ended_message = message, ended_message
        self._clock = clock
        self._window = LogWindow(window_s, clock=clock)
        self._since: float | None = None  # when the current outage's first line was written
        self._down: set[str] = set()  # noted down and not proven answering since (``KAFKA``, ``REGISTRY``)
        self._was_down: set[str] = set()  # everything noted down during the current outage, for its end line

    @property
    def window_s(self) -> float:
        return self._window.window_s

    def note(self, reason: str, *, down: str = KAFKA) -> None:
        """One 503 answered for ``reason``, ``down`` (``KAFKA`` or ``REGISTRY``) not answering: logged if none was in
        the last ``window_s`` seconds, else counted."""
        self._down.add(down)
        self._was_down.add(down)
        answered = self._window.due()
        if answered is not None:
            self._emit(self.message, adapter=self.adapter, reason=reason[:MAX_REASON_CHARS], answered=answered,
                       retry_window_s=self._window.window_s, down=down)
            if self._since is None:
                self._since = self._clock()

    def ended(self) -> None:
        """Everything answers again: ``up`` of both ``KAFKA`` and ``REGISTRY``."""
        self.up(KAFKA, REGISTRY)

    def up(self, *answering: str) -> None:
        """``answering`` (``KAFKA``, ``REGISTRY``) proved it answers: a Kafka acknowledgement proves Kafka, not the
        registry, which a publish of cached schemas never asks. Once nothing noted down is left unproven, one
        ``ended_message`` line if an outage was logged since the last one, naming what was down (the schema
        registry, Kafka or both), and the next outage is logged at once; nothing otherwise (the usual case: a cheap
        check)."""
        if not self._down:
            return
        self._down.difference_update(answering)
        if self._down:  # still down (the registry after a publish that did not ask it): the outage goes on
            return
        if self._since is None:
            self._was_down.clear()
            return
        again = AGAIN.get(frozenset(self._was_down), AGAIN[frozenset({KAFKA})])
        self._emit_ended(self.ended_message.format(again=again), adapter=self.adapter,
                         outage_s=round(self._clock() - self._since, 1))
        self._since = None
        self._was_down.clear()
        self._window = LogWindow(self._window.window_s, clock=self._clock)

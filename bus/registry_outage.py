"""A schema registry that does not answer is an outage, like a broker that does not answer: a processor waits.

A processor decodes a record of the Confluent wire format with the writer schema the registry holds under the
record's schema id (``bus.serde.confluent``); an id it has not cached yet costs one look-up. When the registry
did not answer (connection refused, a timeout, a 5xx or 429: ``SchemaRegistryError.retriable``), the worker
crashed on the first such record with exit status 1, which a loop restarting on 75 does not restart, and some
workers then hung in their stop (a registry restarted after the broker, as ``omnibus stack up`` does, stopped the
screen pop, the handoff clocks and offer withdrawals for good).

Now the look-up is retried (``until_registry_answers``), with a delay doubling from ``FIRST_DELAY_S`` up to
``MAX_DELAY_S``, for as long as the registry does not answer: the record is neither failed nor dead-lettered,
its partition does not move (nothing skipped, nothing lost), and processing goes on when the registry answers.
Meanwhile the process-wide ``OUTAGE`` says so: ``/ready`` answers 503 with ``reason()`` (``processors.readiness``),
``omnibus_schema_registry_unreachable`` is 1, each retry counts in
``omnibus_schema_registry_lookup_retries_total``, one warning line opens the outage window and one info line
closes it, and the lag watchdog does not judge the waiting partition stalled (``bus.lag_watchdog``).

A registry that answers that it has no such schema id (404, any 4xx) is not an outage: the record is poison and
the deserializer raises ``DeserializationError``, which the processor dead-letters (``bus.consume.RecordDecoder``).

Every run-time registry call of a processor goes through ``until_registry_answers``, so all of them wait the same
way: the decode of an input record (``bus.consume.RecordDecoder``); the registration of an output schema, the first
record of a type after a start or a new schema version (``bus.producer.EventProducer`` built with
``wait_for_registry``); a stored event decoded again (identity's ``RefLoader``, through the graph handler and the
announcer); and the rows of a followed topic (``bus.follow.TopicFollower``: identity's fast-path view and assignment
repair, the handoff tracker's customer directory), whose readers let an outage through (``is_outage``) rather than
skip the row. An adapter does not wait: it answers 503 with Retry-After (``adapters.base.errors``).

A registry that hangs (accepts connections, never answers) fails a request only after the client's timeout
(``RegistrySettings.timeout_s``, 10 s: a worker's session timeout). No registry round trip of a processor is made
on its event loop: a step run there is run within ``lookups_off_loop`` (the client defers the round trip,
``RegistryLookupDeferred``), and ``until_registry_answers`` makes it in a thread, then runs the step again.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from prometheus_client import Counter, Gauge

from bus.errors import RegistryLookupDeferred, SchemaRegistryError
from bus.logging import get_logger

FIRST_DELAY_S = 0.5  # the first retry: a registry restarting answers again within seconds
MAX_DELAY_S = 10.0  # the longest wait between two look-ups: a registry back is seen within this many seconds

REGISTRY_UNREACHABLE = Gauge(
    "omnibus_schema_registry_unreachable",
    "1 while a schema look-up of this process waits for a registry that does not answer (bus.registry_outage); "
    "0 otherwise.",
)
LOOKUP_RETRIES = Counter(
    "omnibus_schema_registry_lookup_retries_total",
    "Schema look-ups retried because the schema registry did not answer (bus.registry_outage).",
)

log = get_logger(__name__)
T = TypeVar("T")


_OFF_LOOP: contextvars.ContextVar[bool] = contextvars.ContextVar("registry_lookups_off_loop", default=False)


@contextmanager
def lookups_off_loop() -> Iterator[None]:
    """Within: a registry round trip (a schema not cached yet) is not made but raised as ``RegistryLookupDeferred``
    (``bus.serde.registry``), which ``until_registry_answers`` makes in a thread before it runs the step again.
    For a step on the event loop that may be run again (``until_registry_answers``'s contract): a registry that
    accepts connections and never answers then blocks no other task (heartbeats, ``/live``) for the client's
    timeout. A thread's calls are not affected (``asyncio.to_thread`` runs them in a copy of the context taken
    before, or after, this block)."""
    token = _OFF_LOOP.set(True)
    try:
        yield
    finally:
        _OFF_LOOP.reset(token)


def deferring_lookups() -> bool:
    """True within ``lookups_off_loop``: the registry client defers a round trip instead of making it."""
    return _OFF_LOOP.get()


def _made(call: Callable[[], T]) -> T:
    """``call()`` with its round trips made (in the thread ``until_registry_answers`` runs it in)."""
    token = _OFF_LOOP.set(False)
    try:
        return call()
    finally:
        _OFF_LOOP.reset(token)


def is_outage(error: BaseException) -> bool:
    """True when ``error`` says the registry did not answer (unreachable, a timeout, 5xx, 429): wait and retry.
    A registry that answered no (404 "no such schema id", any other 4xx) is not an outage."""
    return isinstance(error, SchemaRegistryError) and error.retriable


def retry_delay(attempt: int, *, first_s: float = FIRST_DELAY_S, max_s: float = MAX_DELAY_S) -> float:
    """Seconds to wait before look-up ``attempt`` + 1 (``attempt`` 1: after the first failure): ``first_s``
    doubled per failed attempt, at most ``max_s``."""
    return min(max_s, first_s * 2 ** max(0, attempt - 1))


@dataclass
class RegistryOutage:
    """Whether this process waits for the registry now: ``since`` (``clock`` seconds, monotonic) the first failed
    look-up of the current outage, None when there is none. ``failed`` and ``answered`` are called by the retry
    loop; readiness reads ``reason``."""

    clock: Callable[[], float] = time.monotonic
    since: float | None = field(default=None, init=False)
    waiting: int = field(default=0, init=False)  # look-ups waiting now (several agents may wait at once)
    last_error: str = field(default="", init=False)

    def failed(self, error: BaseException) -> None:
        """A look-up found the registry not answering (``error``: the retriable ``SchemaRegistryError``)."""
        self.last_error = str(error)
        if self.since is None:
            self.since = self.clock()
            REGISTRY_UNREACHABLE.set(1)
            log.warning("schema registry does not answer: processing waits and retries the look-up; /ready is 503 "
                        "until it answers", error=self.last_error)

    def answered(self) -> None:
        """A look-up got its answer: the outage (if any) is over."""
        if self.since is not None and self.waiting == 0:
            log.info("schema registry answers again: processing goes on",
                     waited_s=round(self.clock() - self.since, 1))
            self.since = None
            REGISTRY_UNREACHABLE.set(0)

    def left(self) -> None:
        """A waiting look-up was cancelled (the worker stops, a rebalance): with none left waiting, no outage is
        known any more (the next look-up finds out again)."""
        if self.since is not None and self.waiting == 0:
            self.since = None
            REGISTRY_UNREACHABLE.set(0)

    def ongoing(self) -> bool:
        return self.since is not None

    def reason(self) -> str | None:
        """The ``/ready`` reason during an outage, None otherwise."""
        if self.since is None:
            return None
        return (f"the schema registry has not answered for {self.clock() - self.since:.0f} s: processing waits "
                f"and retries ({self.last_error})")


OUTAGE = RegistryOutage()  # the process's one registry (``OmnibusSettings.registry``)


async def until_registry_answers(lookup: Callable[[], T], *, outage: RegistryOutage | None = None,
                                 sleep: Callable[[float], Awaitable[object]] | None = None,
                                 off_loop: bool = False) -> T:
    """``lookup()``'s result, calling it again after ``retry_delay`` for as long as it raises an outage
    (``is_outage``); any other exception propagates at once (a 4xx becomes the deserializer's
    ``DeserializationError``: poison, dead-lettered). Cancellation (a stop, a rebalance) ends the wait.

    ``lookup`` is any step whose registry look-up or registration may meet the outage: a decode, a serialization
    that registers its schema, a handler that decodes a stored event; it must be safe to run again (a step that
    changed state before it failed undoes it or works on a copy). ``off_loop``: run each call in a thread
    (``asyncio.to_thread``), for a step that touches no event-loop state: a registry that hangs rather than
    refuses then blocks no other task for the client's timeout (``RegistrySettings.timeout_s``).

    A step that must run on the loop (it touches the worker's state: the graph handler, the announcer, a follower's
    reader) runs within ``lookups_off_loop``: the registry call it needs (the error's ``lookup``) is made alone in a
    thread, retried there while the registry does not answer, and the step runs again once it answered (the answer
    cached, the step then needs no round trip). A registry that hangs so never blocks the loop."""
    outage, sleep = outage or OUTAGE, sleep or asyncio.sleep
    attempt = 0
    pending: Callable[[], object] | None = None  # the registry call the step needs, made alone off the loop
    while True:
        try:
            answered_no = False
            if pending is not None:
                try:
                    await asyncio.to_thread(_made, pending)
                except SchemaRegistryError as error:
                    if is_outage(error):
                        raise
                    answered_no = True  # the step meets the same answer (a 4xx) itself and says what it means
                pending = None
            if off_loop:
                result = await asyncio.to_thread(_made, lookup)
            elif answered_no:
                result = lookup()
            else:
                with lookups_off_loop():
                    result = lookup()
        except SchemaRegistryError as error:
            if not is_outage(error):
                raise
            if not off_loop:
                pending = error.lookup or pending  # the call the step needs, or the one that failed again
            if isinstance(error, RegistryLookupDeferred):
                continue  # not an outage (yet): make the call in a thread now
            attempt += 1
            outage.failed(error)
            LOOKUP_RETRIES.inc()
            outage.waiting += 1
            try:
                await sleep(retry_delay(attempt))
            except asyncio.CancelledError:
                outage.waiting -= 1
                outage.left()
                raise
            outage.waiting -= 1
            continue
        if attempt:
            outage.answered()
        return result

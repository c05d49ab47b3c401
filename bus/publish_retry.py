"""Whether and when the producer tries again after Kafka refused a start or a publish for a transient reason.

aiokafka already retries a batch inside the producer, in order and without copies (idempotence), until the batch
is older than the producer's ``request_timeout_ms`` (its batch TTL; ``bus.kafka_client.producer_options`` sets it
to ``producer.delivery_timeout_ms``). What escapes it — a partition without a leader for longer than that (a
freshly created topic, a broker fenced under load: ``NotLeaderForPartitionError`` after 30 s in
tests/processors/identity/test_poison.py), or a start while no broker answers (``KafkaConnectionError: Unable to
bootstrap``) — used to stop the worker. ``Retry.run`` tries such an operation again with capped exponential
backoff while the error is retriable (``retriable``), for at most ``give_up_after_s`` seconds in all; then the
last error is raised, so the caller's old handling (a stopped worker, restarted and replaying from its committed
offsets; an adapter's 503) applies to an outage that long. A non-retriable error is raised at once.

A topic's creation the cluster refused because no broker can take a replica for now (every broker fenced, fewer
registered than the replication factor: ``bus.admin_refusal``) is tried again the same way; its warning names the
reason, and once it gives up ``ClusterRefused`` says what was refused, for how long and why.

Each failed attempt is counted by the caller (``omnibus_publish_failures_total``); the warning is rate-limited to
the first failure and then one line per ``LOG_WINDOW_S`` seconds.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from aiokafka.errors import KafkaError, KafkaTimeoutError

from bus.admin_refusal import ClusterRefused, transient_reason
from bus.errors import OmnibusError, SchemaRegistryError
from bus.log_window import LogWindow
from bus.logging import get_logger

if TYPE_CHECKING:
    from bus.config import OmnibusSettings

log = get_logger(__name__)
T = TypeVar("T")
LOG_WINDOW_S = 30.0  # at most one "retrying" warning per operation kind and window


def kafka_retriable(error: KafkaError) -> bool:
    """Whether trying ``error``'s publish again can succeed: aiokafka's own flag, and also a
    ``KafkaTimeoutError`` (which aiokafka marks not retriable): the broker did not answer in time, the
    idempotent producer keeps the records, and the same publish succeeds once the broker is back
    (broker-outage timeouts were counted ``retriable="false"``); and a topic's creation refused while no broker
    can take a replica (``bus.admin_refusal.transient_reason``)."""
    return bool(error.retriable) or isinstance(error, KafkaTimeoutError) or transient_reason(error) is not None


def retriable(error: BaseException) -> bool:
    """A ``KafkaError`` as ``kafka_retriable`` says, an ``OmnibusError`` (``PublishError``) as its own
    ``retriable`` says; anything else (a programming error, a cancellation) is not."""
    if isinstance(error, KafkaError):
        return kafka_retriable(error)
    if isinstance(error, OmnibusError):
        return bool(getattr(error, "retriable", False))
    return False


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with jitter: attempt ``n`` (0-based) waits between half and all of
    ``min(max_s, first_s * 2**n)`` seconds; no attempt starts after ``give_up_after_s`` seconds in all."""

    first_s: float = 0.2
    max_s: float = 5.0
    give_up_after_s: float = 600.0

    def delay_s(self, error: BaseException, attempt: int, elapsed_s: float,
                jitter: Callable[[], float] = random.random) -> float | None:
        """Seconds to wait before trying again after ``attempt`` failed with ``error``, ``elapsed_s`` seconds after
        the first try began; None: give up now (``error`` is not retriable, or the next try would start after
        ``give_up_after_s``). ``jitter()`` is in [0, 1)."""
        if not retriable(error):
            return None
        ceiling = min(self.max_s, self.first_s * 2 ** min(attempt, 32))
        delay = ceiling * (0.5 + 0.5 * jitter())
        if elapsed_s + delay > self.give_up_after_s:
            return None
        return delay


class Retry:
    """``run(operation, what=)``: ``operation()`` again and again as ``backoff`` decides (see the module).
    ``what``: the kind of operation, for the log (``start``, ``send``); never an identifier value."""

    def __init__(self, backoff: Backoff, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.backoff = backoff
        self._sleep, self._clock = sleep, clock
        self._warnings = LogWindow(LOG_WINDOW_S, clock=clock)  # per ``what``

    async def run(self, operation: Callable[[], Awaitable[T]], *, what: str) -> T:
        """``operation()``'s result; raises its last error once ``backoff`` gives up (at once when not retriable),
        or ``ClusterRefused`` from it when that was a topic's creation refused for a transient reason."""
        began, attempt = self._clock(), 0
        while True:
            try:
                return await operation()
            except Exception as error:  # noqa: BLE001 - decided by ``retriable``; the rest is raised as it was
                delay = self.backoff.delay_s(error, attempt, self._clock() - began)
                if delay is None:
                    if (reason := transient_reason(error)) is not None:
                        raise ClusterRefused(what, reason, self._clock() - began, error) from error
                    raise
                self._note(what, error, attempt, delay)
            await self._sleep(delay)
            attempt += 1

    def _note(self, what: str, error: BaseException, attempt: int, delay_s: float) -> None:
        failures = self._warnings.due(what)
        if failures is None:
            return
        reason = transient_reason(error)  # a topic's creation refused: why, in words (no identifier value)
        log.warning(f"{_who_refused(error)} for a transient reason; retrying", operation=what,
                    **({"reason": reason} if reason else {}), error_type=type(error).__name__,
                    error=str(error)[:300], attempt=attempt + 1,
                    failures_since_last_line=failures, retry_in_s=round(delay_s, 2),
                    gives_up_after_s=self.backoff.give_up_after_s)


def _who_refused(error: BaseException) -> str:
    """Who the retry warning blames: the schema registry when it did not answer (an import's chunk fails with the
    adapter's ``Unavailable`` caused by a ``SchemaRegistryError``: the line said Kafka), else Kafka."""
    if isinstance(error, SchemaRegistryError) or isinstance(error.__cause__, SchemaRegistryError):
        return "the schema registry did not answer an operation"
    return "Kafka refused an operation"


def outage_retry(settings: OmnibusSettings) -> Retry:
    """The retry a worker's own Kafka operation (a start, a read of offsets or partitions) rides a broker outage
    with: the producer's backoff, for up to ``producer.give_up_after_s`` seconds."""
    return Retry(Backoff(give_up_after_s=settings.producer.give_up_after_s))


_process_give_up_after_s = [Backoff().give_up_after_s]  # ``producer.give_up_after_s``, set by ``bus.app.create_app``


def set_process_give_up(give_up_after_s: float) -> None:
    """The ``producer.give_up_after_s`` of this process, for the patches of faust that have no settings at hand
    (``bus.declared_topics``, ``bus.client_start``)."""
    _process_give_up_after_s[0] = give_up_after_s


def process_outage_retry() -> Retry:
    """``outage_retry`` for faust's own Kafka operations: the producer's backoff, for up to the process's
    ``producer.give_up_after_s`` (``set_process_give_up``; the setting's default until then)."""
    return Retry(Backoff(give_up_after_s=_process_give_up_after_s[0]))

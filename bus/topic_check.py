"""A topic a process publishes to or reads from exists: a missing one is configuration, not an outage.

an import to a second topic prefix whose topics were never created waited 10 minutes as for a broker
outage ("Kafka has not acknowledged for 90 s", then exit 69), although the broker answered every request. aiokafka
reports a topic its metadata does not list as a retriable ``UnknownTopicOrPartitionError`` (after
``request_timeout_ms`` of metadata refreshes), and a produce to a topic deleted meanwhile expires as a
``KafkaTimeoutError``: both look like an outage.

- At start-up every adapter's producer (``adapters.base.runtime``) and every processor (``bus.app.run_worker``)
  asks the cluster's metadata once for the topics it uses (``require_topics``): a missing one raises
  ``MissingTopicError`` (a ``ConfigError``: the command ends with status 2 and one line naming the topics and
  ``omnibus topics apply``). A file import checks them before it makes the target's state folder
  (``adapters.base.import_target.current_target``), and an adapter before it opens its dedupe file: a mistyped prefix
  leaves nothing on disk.
- At run time a failure that looks like an outage is checked the same way (``missing_after_failure``): a broker
  that answers without the topic makes it ``MissingTopicError`` (not retried); one that does not answer within
  ``CHECK_TIMEOUT_S`` leaves the outage it looked like (retried, 503, status 69 as before).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from aiokafka.errors import KafkaError

from bus.errors import MissingTopicError
from bus.publish_retry import kafka_retriable

CHECK_TIMEOUT_S = 5.0  # a metadata request a broker in an outage does not answer: the outage, as it looked
ListTopics = Callable[[], Awaitable[Iterable[str]]]  # every topic name the cluster's metadata lists


async def missing_topics(list_topics: ListTopics, names: Iterable[str]) -> list[str]:
    """Those of ``names`` (in their order, each once) the cluster's metadata (``list_topics()``) does not list.
    Raises what ``list_topics`` raises (aiokafka's ``KafkaError`` when no broker answers)."""
    listed = set(await list_topics())
    return [name for name in dict.fromkeys(names) if name not in listed]


async def require_topics(list_topics: ListTopics, names: Iterable[str]) -> None:
    """Return when the cluster lists every one of ``names``. Raises ``MissingTopicError`` naming those it does not
    list, or what ``list_topics`` raises when no broker answers (``KafkaConnectionError``: status 69)."""
    missing = await missing_topics(list_topics, names)
    if missing:
        raise MissingTopicError(missing)


async def missing_after_failure(error: BaseException, list_topics: ListTopics,
                                names: Iterable[str]) -> MissingTopicError | None:
    """``MissingTopicError`` when ``error`` is a retriable ``KafkaError`` (an outage by its looks) and the broker
    answers a metadata request that does not list some of ``names``; None otherwise: the error is what it looked
    like (no broker answered within ``CHECK_TIMEOUT_S``, every topic is listed, or ``error`` is not retriable)."""
    if not isinstance(error, KafkaError) or not kafka_retriable(error):
        return None
    try:
        missing = await asyncio.wait_for(missing_topics(list_topics, names), CHECK_TIMEOUT_S)
    except (KafkaError, TimeoutError, OSError):
        return None
    return MissingTopicError(missing) if missing else None

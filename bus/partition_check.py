"""A table's partition-count check waits for metadata that knows both topics: 0 partitions means "not known yet".

Before a table's first write from a stream, faust compares the partition counts of the event's source topic
and of the table's changelog (``faust/tables/base.py``, ``Collection._verify_source_topic_partitions``),
reading them from the consumer's group metadata snapshot (aiokafka's ``GroupCoordinator._metadata_snapshot``,
through ``Consumer.topic_partitions``). That snapshot is made by the group leader at each assignment and counts
a topic the client's metadata does not list yet as **0** partitions (``partitions_for_topic(...) or []``).
faust creates a table's changelog itself when the worker starts (``Topic.maybe_declare``), just before the
consumer joins its group, so on a fresh deployment the assignment's metadata fetch can miss it (a broker whose
metadata cache has not applied the new topic yet); the snapshot then says 0 until the next metadata refresh,
up to ``consumer_metadata_max_age_ms`` (5 min) later. faust took ``2 != 0`` for a misconfigured changelog and
raised ``PartitionsMismatch`` on the first write, which stopped the worker (``bus.consume.stop_on_failure``):
CI's secured stack saw ``handoffs run`` exit 1 on "topic '...-handoff-state-changelog' has 0 partitions".

Kafka has no topic of 0 partitions, so here a count of 0 (or none) is "not known yet": that write goes on, the
check is not remembered as done, and the next write checks again. A real mismatch (two known counts that
differ, e.g. a changelog left by a deployment with another partition count) still raises ``PartitionsMismatch``
as soon as the metadata knows both topics, and ``bus.worker_exit`` stops the worker on it (status 78). The
write itself does not depend on the snapshot: faust's producer waits for the changelog's own metadata before it
sends, and refuses a partition the topic does not have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bus.logging import get_logger

log = get_logger(__name__)


def known_partitions(count: int | None) -> int | None:
    """``count`` from the metadata snapshot, or None when the metadata does not know the topic (None or 0)."""
    return count or None


def verify_when_known(original: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    """``Collection._verify_source_topic_partitions`` that checks only counts the metadata knows (see the module).

    Raises faust's ``PartitionsMismatch`` (from ``original``) when both counts are known and differ."""

    def _verify_source_topic_partitions(self: Any, source_topic: str) -> None:
        if source_topic in self._verified_source_topics_for_partitions:
            return
        consumer = self.app.consumer
        unknown = [topic for topic in (source_topic, self.changelog_topic_name)
                   if known_partitions(consumer.topic_partitions(topic)) is None]
        if unknown:
            if not getattr(self, "_omnibus_check_deferred", False):  # once per table: it may last many writes
                self._omnibus_check_deferred = True
                log.info("table partition check left for a later write: the metadata does not know the topics yet",
                         table=self.name, topics=unknown)
            return
        original(self, source_topic)

    _verify_source_topic_partitions.omnibus_partition_check = True  # type: ignore[attr-defined]
    return _verify_source_topic_partitions


def install() -> None:
    """Patch faust's ``Collection._verify_source_topic_partitions`` once per process."""
    from faust.tables.base import Collection

    check = Collection._verify_source_topic_partitions
    if not getattr(check, "omnibus_partition_check", False):
        Collection._verify_source_topic_partitions = verify_when_known(check)  # type: ignore[method-assign,assignment]

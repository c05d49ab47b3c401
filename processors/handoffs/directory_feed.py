"""Feeding the customer directory: a replica of three topics, read whole by every tracker worker.

Like a Kafka Streams global table: a plain consumer without a group is assigned every partition of
``customer.contacts.v1`` (of which it keeps identity's placements of handoffs, the HandoffCreated records, the
contact events identity moved, which carry ``MOVED_FROM_HEADER``, and its CustomerMerged records; every other
record is skipped by its writer schema, decoding one record per schema, ``bus.serde.writer_prefix``),
``customer.identifiers.v1`` (identity's identifier -> customer, Avro ``IdentifierAssignment``, tombstone =
unassigned) and ``handoff.tier-facts.v1`` (``TierFact`` JSON), reads
them from offset 0 and then follows them. The directory is marked ready once the feed has read up to the end
offsets seen at its start; until then the tracker treats every customer as unknown (default tier, re-timed
later), so a start never blocks a partition. Records that cannot be read are counted and skipped (their
keys are identifiers and are never logged); a record whose writer schema the registry does not answer for is not
skipped: the feed waits for the registry (``bus.follow``). ``tier_fact_record`` is the other half: what the tracker
publishes on the facts topic for a business event.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import ConsumerRecord
from prometheus_client import Counter, Gauge

from bus.config import OmnibusSettings
from bus.follow import TopicFollower
from bus.logging import get_logger
from bus.registry_outage import is_outage
from bus.serde import Deserializer, SerdeContext, writer_prefix
from bus.topics import CUSTOMER_CONTACTS, CUSTOMER_IDENTIFIERS, HANDOFF_TIER_FACTS, moved_from
from processors.handoffs.config import TierPolicy
from processors.handoffs.directory import MOVABLE_CONTACTS, CustomerDirectory
from processors.handoffs.metrics import count_unknown_tier
from processors.handoffs.outputs import CREATED
from processors.handoffs.tier_facts import TierFact
from processors.identity.announcements import CUSTOMER_MERGED
from processors.identity.assignments import row_after_tombstone, supersedes, tombstone_version

log = get_logger(__name__)
UNREADABLE = Counter(
    "omnibus_handoff_directory_unreadable_total", "Directory records that could not be read and were skipped.",
    ["topic"],
)
PRUNED = Counter(
    "omnibus_handoff_directory_pruned_total", "Directory entries dropped past the directory's record-time retention "
    "(DIRECTORY_RETENTION_S), by map (placements, contact_moves) and reason.", ["map", "reason"],
)
READY = Gauge(
    "omnibus_handoff_directory_ready",
    "1 once the customer directory has read customer.contacts.v1, customer.identifiers.v1 and handoff.tier-facts.v1"
    " up to where they were at its start (before that, handoffs start on the default tier and are re-timed later).",
)


class DirectoryFeed(TopicFollower):
    def __init__(
        self, settings: OmnibusSettings, directory: CustomerDirectory, deserializer: Deserializer,
        *, poll_ms: int = 200,
    ) -> None:
        super().__init__(settings, [CUSTOMER_CONTACTS, CUSTOMER_IDENTIFIERS, HANDOFF_TIER_FACTS],
                         "handoffs-directory-feed", poll_ms=poll_ms)
        self.directory, self.deserializer = directory, deserializer
        self.contacts_topic = CUSTOMER_CONTACTS.name(settings.topics)
        self._kept_writers: dict[bytes, bool] = {}  # writer prefix on the contacts topic -> whether its schema is kept
        self._moved_only: set[bytes] = set()  # writer prefixes of contact events: decoded only when moved
        self.identifiers_topic = CUSTOMER_IDENTIFIERS.name(settings.topics)
        self.facts_topic = HANDOFF_TIER_FACTS.name(settings.topics)
        self._versions: dict[str, int] = {}  # assignment version held per identifier (the reader rule)
        self._removed: dict[str, int] = {}  # version a tombstone ended, per unassigned identifier

    async def start(self) -> None:
        """Assign every partition of both topics from offset 0 and follow them in a background task."""
        READY.set(0)
        await super().start()

    def on_record(self, record: ConsumerRecord) -> None:
        self.apply(record.topic, record.key, record.value, record.partition, record.offset, record.headers,
                   record.timestamp)

    def on_caught_up(self) -> None:
        self._mark_ready_if_caught_up()

    def _mark_ready_if_caught_up(self) -> None:
        if self.caught_up and not self.directory.ready:
            self.directory.ready = True
            READY.set(1)
            log.info("customer directory caught up", version=self.directory.version)

    def apply(self, topic: str, key: bytes | None, value: bytes | None, partition: int = 0, offset: int = 0,
              headers: Sequence[tuple[str, bytes]] | None = None, timestamp_ms: int = 0) -> None:
        """Apply one record of any of the topics to the directory (unreadable ones are counted and skipped).

        A tombstone on the identifiers topic unassigns the identifier; its version header
        (``assignments.VERSION_HEADER``) keeps older rows written after it from assigning it again.
        """
        try:
            if not key:
                raise ValueError("record without a key")
            if topic == self.contacts_topic:
                if value is not None and self._wanted(value, headers):
                    self._contact(SerdeContext(topic=topic, key=key, partition=partition, offset=offset), key,
                                  value, headers, timestamp_ms)
            elif topic == self.identifiers_topic:
                customer, identifier = None, key.decode()
                if value is not None:
                    ctx = SerdeContext(topic=topic, key=key, partition=partition, offset=offset)
                    row = self.deserializer(value, ctx).value
                    version = int(row.get("version") or 0)
                    if not supersedes(version, self._versions.get(identifier)) or not row_after_tombstone(
                            version, self._removed.get(identifier)):
                        return  # written late by a stale worker: a newer decision is held (#13)
                    self._versions[identifier], customer = version, row["customer_id"]
                else:
                    self._versions.pop(identifier, None)
                    if (removed_at := tombstone_version(headers)) is not None:
                        self._removed[identifier] = max(removed_at, self._removed.get(identifier, removed_at))
                self.directory.assign(identifier, customer)
            elif value is not None:
                self.directory.record(TierFact.from_json(value))
        except Exception as error:  # a poison record must not stop the replica
            if is_outage(error):
                raise  # the registry did not answer: the follower waits and calls again (bus.follow)
            UNREADABLE.labels(topic=topic).inc()
            log.warning("directory record skipped", topic=topic, partition=partition, offset=offset,
                        error_type=type(error).__name__)

    def _contact(self, ctx: SerdeContext, key: bytes, value: bytes, headers: Sequence[tuple[str, bytes]] | None,
                 timestamp_ms: int) -> None:
        """A record of ``customer.contacts.v1`` (key: the customer identity placed it on) of a writer schema not
        known to be skipped: a HandoffCreated places its handoff (moved when it carries ``MOVED_FROM_HEADER``), a
        CustomerMerged (under the merged id) merges; any other schema's records are skipped undecoded from now on
        (``apply`` checks ``writer_prefix`` first: every tracker worker reads every contact)."""
        event = self.deserializer(value, ctx)
        prefix = writer_prefix(value)
        self._kept_writers[prefix] = event.schema in (CREATED, CUSTOMER_MERGED)
        if event.schema in MOVABLE_CONTACTS:
            self._moved_only.add(prefix)
        self.directory.read(key, event, headers, timestamp_ms)
        pruned = self.directory.placements.pruned
        for name, count in pruned.items():
            PRUNED.labels(map=name, reason="expired").inc(count)
        pruned.clear()

    def _wanted(self, value: bytes, headers: Sequence[tuple[str, bytes]] | None) -> bool:
        """Whether a contacts record is decoded: its writer schema is kept or not known yet, or it is a contact
        event identity moved (``MOVED_FROM_HEADER``: its handoffs follow)."""
        prefix = writer_prefix(value)
        if self._kept_writers.get(prefix) is not False:
            return True
        return prefix in self._moved_only and moved_from(headers) is not None


def tier_fact_record(fact: TierFact, tiers: TierPolicy) -> tuple[bytes, bytes]:
    """(key, value) of a fact on ``handoff.tier-facts.v1``; an open account's tier ``tiers.order`` does not list is
    counted here, once per business event digested (``count_unknown_tier``), not by each replica that reads it."""
    if fact.tier is not None and fact.active:
        count_unknown_tier(tiers, fact.tier, "account")
    return fact.key.encode(), fact.to_json()

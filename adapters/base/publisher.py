"""The one path from mapped records to Kafka that every adapter uses.

``submit`` returns only when Kafka acknowledged every new event (idempotent producer, acks=all), so an
ingress may answer 2xx right after it. Records whose source id was already published are skipped;
Kafka not acknowledging becomes ``Unavailable`` (503 + Retry-After), never a silent loss.

A publish that times out is not abandoned: the idempotent producer keeps retrying it until the broker
is back, so its records may still land. Its source ids stay "in flight"; a redelivery of them waits for
that publish instead of publishing them a second time, and they are remembered once it succeeds.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from adapters.base.dedupe import DedupeStore
from adapters.base.errors import Misconfigured, RejectedInput, Unavailable, is_outage
from adapters.base.mapper import Claim, DroppedPart, MappedRecord
from adapters.base.metrics import (
    ACK_LATENCY,
    DUPLICATES,
    PUBLISHED,
    RECEIVED,
    REJECTED,
    UNAVAILABLE,
)
from adapters.base.outage_log import ENDED_MESSAGE, KAFKA, MESSAGE, MISSING_TOPIC_MESSAGE, REGISTRY, OutageLog
from bus.dead_letter import DeadLetterWriter, part_refused_reason
from bus.envelope import DEAD_LETTER_IDS
from bus.errors import MissingTopicError, PublishError, RawRecord, SchemaRegistryError, SerializationError
from bus.logging import get_logger
from bus.producer import EventProducer
from bus.serde.registry import registry_answers
from bus.topic import KafkaRecord

log = get_logger(__name__)
REASON_DIGEST_HEX = 16  # of a refused part's reason in its dedupe id (``dropped_part_id``)


@dataclass(frozen=True, slots=True)
class SubmitResult:
    published_events: int
    duplicate_records: int
    published_ids: tuple[str, ...] = ()  # dedupe ids of the records published now (not duplicates)
    # indexes (in the records submitted) of records whose id was published with another content digest: not
    # published, not duplicates; the caller refuses them (``adapters.base.ingest``)
    conflicts: tuple[int, ...] = ()
    # index -> the record's ``Claim`` whose id named other content (its conflict is on that id, not its own)
    claim_conflicts: dict[int, Claim] = field(default_factory=dict)


class AdapterPublisher:
    def __init__(
        self,
        name: str,
        producer: EventProducer,
        dedupe: DedupeStore,
        dead_letters: DeadLetterWriter,
        *,
        retry_after_s: int,
        publish_timeout_s: float = 10.0,
        outage_message: str = MESSAGE,
        outage_ended_message: str = ENDED_MESSAGE,
    ) -> None:
        self.name = name
        self._producer = producer
        self._dedupe = dedupe
        self._dead_letters = dead_letters
        self._retry_after_s = retry_after_s
        self._publish_timeout_s = publish_timeout_s
        self._in_flight: dict[str, asyncio.Future] = {}  # source id -> a timed-out publish still running
        self.outage_log = OutageLog(name, log.warning, message=outage_message, emit_ended=log.info,
                                    ended_message=outage_ended_message)
        self._missing_topic_log = OutageLog(name, log.error, message=MISSING_TOPIC_MESSAGE)
        self._gone_topics: frozenset[str] = frozenset()  # deleted while it runs (``refuse_topics``)
        # ``registry_answers()`` when the registry was last noted down; None: not down (``_answering``)
        self._registry_down_at: int | None = None

    def refuse_topics(self, topics: frozenset[str]) -> None:
        """From now on answer 503 (``Misconfigured``) for a record with an event bound for one of ``topics``, without
        publishing any of its events; an empty set takes them all back (``bus.topic_watch.watch``'s ``report``)."""
        self._gone_topics = topics

    def encode_now(self, record: MappedRecord) -> MappedRecord | None:
        """``encode`` without the event loop, or None when an event's schema must first be fetched from
        the registry (then await ``encode``). Raises as ``encode`` does."""
        try:
            encoded = []
            for outgoing in record.events:
                kafka_record = self._producer.encode_now(outgoing)
                if kafka_record is None:
                    return None
                encoded.append(kafka_record)
        except SerializationError as exc:
            raise RejectedInput(f"input maps to an invalid event: {exc}"[:500], code="unmappable") from exc
        return MappedRecord(record.dedupe_id, record.events, tuple(encoded), record.dropped_traits,
                            record.content_digest, record.claims, record.dropped_parts)

    async def encode(self, record: MappedRecord) -> MappedRecord:
        """``record`` with its events serialized (``MappedRecord.encoded``), the one Avro encoding they get.

        Raise ``RejectedInput`` (``unmappable``) when an event does not match its schema (a value the
        schema refuses costs only its record), ``Unavailable`` when the schema registry cannot be reached.
        """
        try:
            encoded = tuple([await self._producer.encode(outgoing) for outgoing in record.events])
        except SerializationError as exc:
            raise RejectedInput(f"input maps to an invalid event: {exc}"[:500], code="unmappable") from exc
        except SchemaRegistryError as exc:
            raise self.unavailable("schema registry unavailable", detail=str(exc), down=REGISTRY) from exc
        # dropped_traits and dropped_parts kept: the answer lists them (lost here, so no answer had them)
        return MappedRecord(record.dedupe_id, record.events, encoded, record.dropped_traits, record.content_digest,
                            record.claims, record.dropped_parts)

    async def submit(self, records: Sequence[MappedRecord], *, received_at: float | None = None) -> SubmitResult:
        """Publish the events of records not published before; wait for Kafka's acknowledgement.

        A record whose id was published (before or earlier in ``records``) with another ``content_digest`` is a
        conflict (``SubmitResult.conflicts``), not a duplicate: the source reused an id for another record. This check
        sees what this process's dedupe store saw; another record under a reused id that another
        replica published is published here too, under event ids of its own (``MappedRecord.content_digest``). An id
        published without a digest (a store of before) stays a duplicate. A fresh record whose ``Claim`` names an id
        remembered with another digest is a conflict too (``SubmitResult.claim_conflicts``); its claims are
        remembered with its id once published."""
        started = received_at or time.perf_counter()
        RECEIVED.labels(adapter=self.name).inc(len(records))
        ids = [record.dedupe_id for record in records]
        given = [record.content_digest for record in records]
        claimed = [claim.id for record in records if record.claims for claim in record.claims]
        async with self._dedupe.claim(ids + claimed if claimed else ids):
            await self._join_in_flight(ids)
            already = await self._dedupe.seen_off_loop(ids + claimed if claimed else ids)
            before = await self._dedupe.digests_off_loop(
                [i for i, digest in zip(ids, given, strict=True) if digest is not None and i in already]
                + [i for i in claimed if i in already]
            ) if already and (claimed or any(digest is not None for digest in given)) else {}
            fresh, duplicates, conflicts = [], 0, []
            claim_conflicts: dict[int, Claim] = {}
            kept: dict[str, bytes | None] = {}  # id -> digest of the record published under it in this call
            for index, (record, digest) in enumerate(zip(records, given, strict=True)):
                if record.dedupe_id in already or record.dedupe_id in kept:
                    earlier = kept.get(record.dedupe_id, before.get(record.dedupe_id))
                    if digest is not None and earlier is not None and earlier != digest:
                        conflicts.append(index)
                    else:
                        duplicates += 1
                    continue
                if record.claims:  # a fresh record naming, under one of its claims, what another record said
                    taken = next((claim for claim in record.claims
                                  if kept.get(claim.id, before.get(claim.id)) not in (None, claim.digest)), None)
                    if taken is not None:
                        conflicts.append(index)
                        claim_conflicts[index] = taken
                        continue
                    kept.update((claim.id, claim.digest) for claim in record.claims)
                kept[record.dedupe_id] = digest
                fresh.append(record)
            events = [event for record in fresh for event in record.events]
            if self._gone_topics and (gone := self._gone_topics.intersection(event.topic for event in events)):
                raise self.misconfigured(MissingTopicError(sorted(gone)))  # nothing published, nothing remembered
            # every record checked by ``encode``: publish its bytes (a record with no events has none)
            encoded = ([value for record in fresh for value in record.encoded]
                       if all(record.encoded or not record.events for record in fresh) else None)
            if events:
                await self._publish(events, [record.dedupe_id for record in fresh], encoded)
            await self._dedupe.remember_off_loop(
                kept,  # the fresh records' ids and their claims
                {i: digest for i, digest in kept.items() if digest is not None},
            )
        self.count_duplicates(duplicates)
        PUBLISHED.labels(adapter=self.name).inc(len(events))
        ACK_LATENCY.labels(adapter=self.name).observe(time.perf_counter() - started)
        return SubmitResult(published_events=len(events), duplicate_records=duplicates,
                            published_ids=tuple(record.dedupe_id for record in fresh), conflicts=tuple(conflicts),
                            claim_conflicts=claim_conflicts)

    def count_duplicates(self, records: int) -> None:
        """Count ``records`` native records answered as duplicates in ``omnibus_adapter_duplicates_total``: those
        ``submit`` skipped by id, and those an ingress skipped itself as an older or equal version of a published one
        (a re-sent CTR). One count for every record a sender is told is a duplicate."""
        DUPLICATES.labels(adapter=self.name).inc(records)

    async def _publish(self, events: list, ids: list[str], encoded: list[KafkaRecord] | None = None) -> None:
        publish = asyncio.ensure_future(
            self._producer.publish_many(events) if encoded is None
            else self._producer.publish_many(events, encoded, batched=True))
        try:
            await self._acknowledged(publish)
        except (TimeoutError, asyncio.CancelledError) as exc:
            self._keep_in_flight(publish, ids)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise self.unavailable(f"Kafka did not acknowledge within {self._publish_timeout_s:g} s") from exc
        except SerializationError as exc:
            # The mapper built an event its schema refuses: reject the input rather than guess.
            raise RejectedInput(f"input maps to an invalid event: {exc}", code="unmappable") from exc
        except MissingTopicError as exc:
            raise self.misconfigured(exc) from exc
        except SchemaRegistryError as exc:  # an event's schema registered at its first publish: the registry's outage
            raise self.unavailable("schema registry unavailable", detail=str(exc), down=REGISTRY) from exc
        except PublishError as exc:
            raise self.unavailable("events not acknowledged by Kafka", detail=str(exc)) from exc

    async def _acknowledged(self, publish: asyncio.Future) -> None:
        """Wait for ``publish`` up to ``publish_timeout_s`` (then ``TimeoutError``), noting each ``outage_log.window_s``
        of waiting in the outage log: an import waits up to ``producer.give_up_after_s`` and must not be silent
        meanwhile; a sender's 10 s wait is one step, as before. An acknowledgement after a logged
        outage writes its end (``OutageLog.ended``)."""
        waited = 0.0
        while True:
            step = min(self.outage_log.window_s, self._publish_timeout_s - waited)
            try:
                await asyncio.wait_for(asyncio.shield(publish), step)
            except TimeoutError:
                waited += step
                if waited >= self._publish_timeout_s:
                    raise
                self.outage_log.note(f"Kafka has not acknowledged for {waited:g} s")
                continue
            self.outage_log.up(*self._answering())
            return

    def _answering(self) -> tuple[str, ...]:
        """What a Kafka acknowledgement proves answers: Kafka, and the schema registry only if it answered a request
        since it was noted down (``bus.serde.registry.registry_answers``), not at a publish of cached schemas."""
        if self._registry_down_at is not None and registry_answers() <= self._registry_down_at:
            return (KAFKA,)
        self._registry_down_at = None
        return (KAFKA, REGISTRY)

    def unavailable(self, reason: str, *, detail: str | None = None, down: str = KAFKA) -> Unavailable:
        """The 503 for an outage (``is_outage``), counted in ``omnibus_adapter_unavailable_total`` and logged
        (``outage_log``: one warning per outage and window, not per request): the one place an infrastructure error
        becomes the sender's "retry later". ``reason`` is what the sender reads; ``detail`` (the client's error: a
        registry's or broker's internal address, an errno) goes to the log only, never to a caller outside; ``down``:
        what did not answer (``outage_log.KAFKA`` or ``REGISTRY``), which the line that ends the outage names."""
        UNAVAILABLE.labels(adapter=self.name).inc()
        if down == REGISTRY:
            self._registry_down_at = registry_answers()
        self.outage_log.note(f"{reason}: {detail}" if detail else reason, down=down)
        return Unavailable(reason, retry_after_s=self._retry_after_s)

    def misconfigured(self, error: MissingTopicError) -> Misconfigured:
        """The 503 for a topic that does not exist (configuration, not an outage: ``is_outage`` is False), counted in
        ``omnibus_adapter_unavailable_total`` like any 503 and logged as an error naming the topics and the fix (one
        line per window, not per request)."""
        UNAVAILABLE.labels(adapter=self.name).inc()
        self._missing_topic_log.note(str(error))
        return Misconfigured(str(error), retry_after_s=self._retry_after_s)

    def _keep_in_flight(self, publish: asyncio.Future, ids: list[str]) -> None:
        for dedupe_id in ids:
            self._in_flight[dedupe_id] = publish
        publish.add_done_callback(lambda done: self._settle(done, ids))

    def _settle(self, publish: asyncio.Future, ids: Iterable[str]) -> None:
        """A timed-out publish finished: remember its ids if Kafka acknowledged it after all."""
        for dedupe_id in ids:
            if self._in_flight.get(dedupe_id) is publish:
                del self._in_flight[dedupe_id]
        if publish.cancelled():
            return
        if publish.exception() is not None:
            log.warning("a timed-out publish failed; a redelivery will publish again", adapter=self.name)
            return
        self._dedupe.remember(ids)
        PUBLISHED.labels(adapter=self.name).inc(len(publish.result()))

    async def _join_in_flight(self, ids: list[str]) -> None:
        """Wait for timed-out publishes of these ids; 503 again if Kafka still has not acknowledged them."""
        running = {self._in_flight[i] for i in ids if i in self._in_flight}
        if not running:
            return
        _, pending = await asyncio.wait(running, timeout=self._publish_timeout_s)
        if pending:
            raise self.unavailable("an earlier delivery of this input is still waiting for Kafka's acknowledgement")
        # done callbacks run in registration order, so _settle has remembered the acknowledged ids

    async def reject(self, raw: RawRecord, error: RejectedInput) -> None:
        """Dead-letter refused input with its reason (the caller answers the sender).

        Raises ``Unavailable`` when the dead letter is not acknowledged (Kafka or the registry down,
        ``is_outage``): the refusal is then neither answered nor counted as rejected, and the sender retries.
        """
        await self._dead_letter(raw, error)
        RECEIVED.labels(adapter=self.name).inc()  # received = published + duplicates + rejected
        REJECTED.labels(adapter=self.name, reason=error.code).inc()

    async def reject_part(self, raw: RawRecord, dropped: DroppedPart) -> None:
        """Dead-letter the refused part of a published record (``MappedRecord.dropped_parts``) with the record's
        bytes, the reason starting ``<part> refused, the rest of the record was published:``; the record counts as
        published, not rejected. Raises as ``reject``.

        Once per part key and reason: a re-delivery of the record, or another version of it (a re-sent or updated
        CTR of the same contact), finds the part's id in the dedupe store and writes nothing; the dead letter's id
        derives from that id too (``DEAD_LETTER_IDS``), so a copy another replica or a crash before the store
        remembered it writes is one dead letter to readers (``omnibus deadletters list``). A refusal with another
        reason (the form changed, still wrong) is a dead letter of its own."""
        error = dropped.refusal
        part_id = dropped_part_id(dropped)
        async with self._dedupe.claim([part_id]):
            if await self._dedupe.seen_off_loop([part_id]):
                return
            await self._dead_letter(raw, RejectedInput(
                part_refused_reason(dropped.part, error.reason), code=error.code,
                status=error.status), dead_letter_id=DEAD_LETTER_IDS.derive(self.name, part_id))
            await self._dedupe.remember_off_loop([part_id])

    async def _dead_letter(self, raw: RawRecord, error: RejectedInput, dead_letter_id: str | None = None) -> None:
        try:
            await self._dead_letters.write(raw, reason=error.reason, error_type=f"RejectedInput.{error.code}",
                                           dead_letter_id=dead_letter_id)
        except MissingTopicError as exc:
            raise self.misconfigured(exc) from exc
        except Exception as exc:
            if not is_outage(exc):
                raise
            raise self.unavailable("cannot record the rejection", detail=str(exc),
                                   down=REGISTRY if isinstance(exc, SchemaRegistryError) else KAFKA) from exc


def dropped_part_id(dropped: DroppedPart) -> str:
    """The dedupe store's id of a refused part (``reject_part``): ``dropped-<part>=<key>#<reason digest>``, in a
    namespace no source id takes (as ``Claim`` ids), the reason digested so that the store holds no reason text."""
    reason = hashlib.sha256(dropped.refusal.reason.encode()).hexdigest()[:REASON_DIGEST_HEX]
    return f"dropped-{dropped.part}={dropped.key}#{reason}"

"""The baseline's three stages: intake (partitioned), decide (one partition), profiles (by customer id).

* ``IntakeStage`` reads every input topic of the identity processor, normalises as it does
  (``intake.Intake``) and appends each event's saga to the decide log (``topics.decide_topic``).
* ``DecideStage`` runs ``SingleWriterResolver`` over the decide log and announces its decisions
  (``announcements.Announcer``); each resolved event, and each merge, goes to ``topics.resolved_topic`` keyed
  by customer id.
* ``ProfileStage`` keeps the screen-pop profiles of its customers (``profile.book``), moves a merged
  customer's profile to the survivor, and re-keys every contact onto ``customer.contacts``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from bus.config import OmnibusSettings
from bus.consume import RecordDecoder
from bus.dead_letter import DeadLetterWriter
from bus.errors import RawRecord
from bus.logging import get_logger
from bus.producer import EventProducer
from bus.registry_outage import until_registry_answers
from bus.serde import Event
from bus.topic import KafkaRecord
from bus.topics import placed_topics
from processors.identity.announcements import Announcer
from processors.identity.baseline.resolver import SingleWriterResolver
from processors.identity.baseline.stage import Produced, Stage
from processors.identity.baseline.topics import (
    ABSORB,
    APPLY,
    MERGE,
    decide_topic,
    decode_work,
    encode_work,
    resolved_topic,
)
from processors.identity.graph.messages.base import EventRef
from processors.identity.graph.messages.steps import Visit
from processors.identity.graph.outputs import Merged, Output, Resolved, Send
from processors.identity.intake import EventTooLarge, Intake, event_ref
from processors.identity.wire import decode_record, encode_record
from processors.profile.book import ProfileBook, ProfileState

log = get_logger(__name__, component="identity-baseline")
Loader = Any  # ``intake.ref_loader``'s callable: event reference -> Event


class IntakeStage(Stage):
    def __init__(self, settings: OmnibusSettings, producer: EventProducer, group: str, topics: Sequence[str],
                 intake: Intake, book: ProfileBook, decoder: RecordDecoder, dead_letters: DeadLetterWriter,
                 announcer: Announcer) -> None:
        super().__init__(settings, producer, group, topics, stateful=False)
        self.intake, self.book, self.decoder, self.dead_letters = intake, book, decoder, dead_letters
        self.announcer = announcer
        self.decide_topic = decide_topic(settings.topics)
        self.placed = placed_topics(settings.topics)

    def forget(self, partitions: set[TopicPartition]) -> None:
        pass

    async def handle(self, records: Sequence[ConsumerRecord], *, replaying: bool) -> list[Produced]:
        out: list[Produced] = []
        for record in records:
            raw = RawRecord(record.value, record.key, tuple(record.headers), record.topic, record.partition,
                            record.offset)
            event = await self.decoder.decode(raw)
            if event is None:
                continue
            wants_ref = record.topic in self.placed or self.book.wants(event)
            try:
                started = self.intake.start(event, event_ref(record.topic, event, record.value) if wants_ref else None)
            except Exception as exc:  # dead-lettered, never skipped (#13)
                error_type = "EventTooLarge" if isinstance(exc, EventTooLarge) else type(exc).__name__
                await self.dead_letters.write(raw, reason=f"baseline intake refused the event: {exc!r}",
                                              error_type=error_type)
                continue
            for output in started:
                if isinstance(output, Send) and isinstance(output.message, Visit):
                    event_id = output.message.saga.event_id.encode()
                    out.append(KafkaRecord(self.decide_topic, event_id, encode_record([(output.node, output.message)])))
                else:
                    out.extend(self.announcer.outgoing(output))
        return out


class DecideStage(Stage):
    def __init__(self, settings: OmnibusSettings, producer: EventProducer, group: str, resolver: SingleWriterResolver,
                 announcer: Announcer, dead_letters: DeadLetterWriter) -> None:
        super().__init__(settings, producer, group, [decide_topic(settings.topics)], stateful=True)
        self.resolver, self.announcer, self.dead_letters = resolver, announcer, dead_letters
        self.resolved_topic = resolved_topic(settings.topics)

    def forget(self, partitions: set[TopicPartition]) -> None:
        if partitions:  # one partition: all of the state
            self.resolver.reset()

    async def handle(self, records: Sequence[ConsumerRecord], *, replaying: bool) -> list[Produced]:
        out: list[Produced] = []
        for record in records:
            try:
                ((node, message),) = decode_record(record.value)
                if not isinstance(message, Visit):
                    raise ValueError(f"the decide log holds sagas' first visits, not {type(message).__name__}")
                decided = self.resolver.resolve(node, message, message.saga.event_id)
            except Exception as exc:  # a saga the resolver cannot take must not stall the log
                log.exception("baseline resolver failed", error_type=type(exc).__name__)
                if not replaying:
                    raw = RawRecord(record.value, record.key, (), record.topic, record.partition, record.offset)
                    await self.dead_letters.write(raw, reason=f"baseline resolver failed: {exc!r}",
                                                  error_type=type(exc).__name__)
                continue
            if not replaying:
                for output in decided:
                    out.extend(self._outgoing(output))
        return out

    def _outgoing(self, output: Output) -> list[Produced]:
        if isinstance(output, Resolved):
            ref = output.event_ref
            work = {"k": APPLY, "c": output.customer_id, "e": output.triggering_event_id, "t0": output.started_at,
                    "ev": None if ref is None else [ref.topic, ref.schema, ref.record]}
            return [KafkaRecord(self.resolved_topic, output.customer_id.encode(), encode_work(work))]
        announced: list[Produced] = list(self.announcer.outgoing(output))
        if isinstance(output, Merged):
            work = {"k": MERGE, "c": output.merged_id, "into": output.survivor_id}
            announced.append(KafkaRecord(self.resolved_topic, output.merged_id.encode(), encode_work(work)))
        return announced


class ProfileStage(Stage):
    def __init__(self, settings: OmnibusSettings, producer: EventProducer, group: str, book: ProfileBook,
                 load_event: Loader, announcer: Announcer) -> None:
        super().__init__(settings, producer, group, [resolved_topic(settings.topics)], stateful=True)
        self.book, self.load_event, self.announcer = book, load_event, announcer
        self.resolved_topic = resolved_topic(settings.topics)
        self.profiles: dict[int, dict[str, ProfileState]] = {}  # partition -> customer id -> profile

    def forget(self, partitions: set[TopicPartition]) -> None:
        for partition in partitions:
            self.profiles.pop(partition.partition, None)

    async def handle(self, records: Sequence[ConsumerRecord], *, replaying: bool) -> list[Produced]:
        out: list[Produced] = []
        for record in records:
            work = decode_work(record.value)
            profiles = self.profiles.setdefault(record.partition, {})
            customer = work["c"]
            if work["k"] == APPLY and work.get("ev") is not None:
                ref = EventRef(*work["ev"])
                if self.book.takes(ref.schema):
                    # a stored event decoded again waits while the registry does not answer (bus.registry_outage)
                    event: Event = await until_registry_answers(functools.partial(self.load_event, ref))
                    profiles[customer] = self.book.apply(profiles.get(customer), event)
                if not replaying:
                    resolved = Resolved(customer, ref, work["e"], work["t0"])
                    out.extend(await until_registry_answers(functools.partial(self.announcer.outgoing, resolved)))
            elif work["k"] == MERGE:
                moved = profiles.pop(customer, None)
                if moved and not replaying:
                    absorb = {"k": ABSORB, "c": work["into"], "pf": moved}
                    out.append(KafkaRecord(self.resolved_topic, work["into"].encode(), encode_work(absorb)))
            elif work["k"] == ABSORB:
                profiles[customer] = self.book.merge(profiles.get(customer), work["pf"])
        return out

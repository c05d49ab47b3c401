"""A baseline worker: the three stages in one process, over one producer.

Run several: the intake and profile stages share their partitions out; the decide log's single partition
goes to one worker at a time (the single writer), the others stand by and take over on a rebalance.

    python -m processors.identity.baseline       # settings from OMNIBUS_* and OMNIBUS_IDENTITY_*
"""

from __future__ import annotations

import asyncio

from bus.config import OmnibusSettings
from bus.consume import RecordDecoder
from bus.dead_letter import DeadLetterWriter
from bus.producer import worker_producer
from bus.serde import build_serde
from bus.topic_admin import apply_topics
from bus.topics import DEAD_LETTERS
from processors.identity.agent import input_topics
from processors.identity.announcements import Announcer
from processors.identity.baseline.resolver import SingleWriterResolver
from processors.identity.baseline.stage import Stage
from processors.identity.baseline.stages import DecideStage, IntakeStage, ProfileStage
from processors.identity.baseline.topics import baseline_topics
from processors.identity.config import IdentitySettings
from processors.identity.intake import Intake, ref_loader
from processors.identity.normalize import IdentifierNormalizer
from processors.identity.rules import LinkPolicy
from processors.identity.wire import RoutingSerializer
from processors.profile.book import ProfileBook

COMPONENT = "identity-baseline"


class BaselineWorker:
    """``run()`` until ``stop()``; the consumer groups are ``<prefix>.identity-baseline-intake``, ``-decide``
    and ``-profile`` (``prefix``: the topic prefix, as faust's app ids)."""

    def __init__(self, settings: OmnibusSettings, identity: IdentitySettings, *, book: ProfileBook | None = None,
                 ) -> None:
        self.settings = settings
        group = f"{settings.topics.prefix}.{COMPONENT}"
        book = book if book is not None else ProfileBook.from_registry(identifiers=settings.identifiers)
        serializer, deserializer = build_serde(settings.registry)
        self.producer = worker_producer(settings, RoutingSerializer(serializer))
        load_event = ref_loader(deserializer)
        announcer = Announcer(settings.topics, load_event)
        dead_letters = DeadLetterWriter(self.producer, DEAD_LETTERS.name(settings.topics), COMPONENT)
        inputs = [spec.name(settings.topics) for spec in input_topics(book)]
        intake = Intake(IdentifierNormalizer(identity, settings.identifiers), book)
        self.resolver = SingleWriterResolver(LinkPolicy(identity), book, dedupe_window=identity.dedupe_window)
        self.stages: list[Stage] = [
            IntakeStage(settings, self.producer, f"{group}-intake", inputs, intake, book,
                        RecordDecoder(deserializer, dead_letters), dead_letters, announcer),
            DecideStage(settings, self.producer, f"{group}-decide", self.resolver, announcer, dead_letters),
            ProfileStage(settings, self.producer, f"{group}-profile", book, load_event, announcer),
        ]
        self._stop = asyncio.Event()

    async def run(self) -> None:
        """Create the baseline's topics if missing, then run every stage until ``stop()`` (or one fails)."""
        await apply_topics(self.settings, baseline_topics())
        await self.producer.start()
        try:
            tasks = [asyncio.create_task(stage.run(self._stop), name=stage.group) for stage in self.stages]
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            self._stop.set()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                task.result()  # a failed stage stops the worker with its error
        finally:
            await self.producer.stop()

    def stop(self) -> None:
        self._stop.set()

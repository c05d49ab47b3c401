"""The intake stage: input records → identifiers normalised → one saga per event started on the graph topic.

Records come either in bulk straight from faust's fetch (``bulk_intake.py``, the default) or through the
faust agent ``agent`` (``IdentitySettings.bulk_intake=false``). For each batch: decode (a record that is not
valid Avro is dead-lettered by ``bus.consume.RecordDecoder``), keep the event for the customer root and the
announcer (``intake.ref_loader``), start its saga (``intake.Intake.start``: invalid and blocked identifiers
are refused there and then), apply the repeat contacts whose root is here (``apply_here.py``), publish the
rest. The batch counts as taken only once its outputs are acknowledged and no rebalance took its partitions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust

from bus.consume import RecordDecoder, hold_back, raw_record
from bus.dead_letter import DeadLetterWriter
from bus.take_batches import take_events
from processors.identity import metrics
from processors.identity.apply_here import ApplyHere
from processors.identity.config import IdentitySettings
from processors.identity.graph.outputs import Output
from processors.identity.graph_progress import GraphProgress
from processors.identity.intake import EventTooLarge, Intake, RefLoader, event_ref
from processors.identity.publish import Publisher
from processors.profile.book import ProfileBook


class IntakeAgent:
    """``batch(records, allowed)`` starts and publishes one batch; ``agent(stream)`` is the faust agent's body.
    ``owned()`` gives the graph partitions assigned to this worker (for the wait on the graph's progress)."""

    def __init__(self, identity: IdentitySettings, intake: Intake, book: ProfileBook, decoder: RecordDecoder,
                 dead_letters: DeadLetterWriter, load_event: RefLoader, placed: frozenset[str], here: ApplyHere,
                 publisher: Publisher, progress: GraphProgress, owned: Callable[[], set[int]],
                 started: Callable[[], Awaitable[None]], crash: Callable[[str, Exception], Awaitable[Any]]) -> None:
        self.identity, self.intake, self.book, self.decoder = identity, intake, book, decoder
        self.dead_letters, self.load_event, self.placed = dead_letters, load_event, placed
        self.here, self.publisher, self.progress, self.owned = here, publisher, progress, owned
        self._started, self._crash = started, crash

    async def agent(self, stream: faust.StreamT) -> None:
        batches = take_events(stream, self.identity.batch_size, self.identity.batch_within_s)  # no idle timer
        async for events in batches:
            try:
                if not await self.batch([event.message for event in events]):
                    hold_back(events)  # fenced off by a rebalance: left to the partitions' next owner
            except asyncio.CancelledError:
                hold_back(events)  # stopped mid-batch (SIGTERM, rebalance): never committed past (#13 build 5)
                raise
            except Exception as exc:
                hold_back(events)
                await self._crash("intake", exc)

    async def batch(self, messages: Sequence[Any], allowed: Callable[[], bool] = lambda: True) -> bool:
        """Start the saga of each record (aiokafka ``ConsumerRecord``s or faust ``Message``s) and publish
        them; False, with nothing published, when ``allowed()`` says the partitions were lost meanwhile."""
        await self._started()
        if self.identity.intake_waits_for_graph_s > 0 and len(messages) >= self.identity.batch_size:
            # A full batch: intake is behind (a backlog, a replay), so the graph's customers first, then the
            # fast path (graph_progress.py). Under a steady input the wait would only add latency: at 400
            # events/s it cost 300-600 ms a batch (tests/bench/results/identity_latency.md).
            await self.progress.settled(self.owned(), self.identity.intake_waits_for_graph_s)
        outputs: list[Output] = []
        for message in messages:
            record = raw_record(message)
            decoded = await self.decoder.decode(record)
            if decoded is None:
                continue
            # a placed event's record travels to its customer: the announcer re-publishes it under that customer
            wants_ref = record.topic in self.placed or self.book.wants(decoded)
            try:
                ref = event_ref(record.topic or "", decoded, record.value or b"") if wants_ref else None
                if ref is not None:
                    self.load_event.keep(ref, decoded)  # read again at the customer root and by the announcer
                outputs.extend(self.intake.start(decoded, ref))
            except Exception as exc:  # an event intake cannot take is dead-lettered, never skipped (#13)
                error_type = "EventTooLarge" if isinstance(exc, EventTooLarge) else type(exc).__name__
                await self.dead_letters.write(record, reason=f"identity intake refused the event: {exc!r}",
                                              error_type=error_type)
        here = self.here.select(outputs)
        if here:
            return await self.here.apply(here, outputs, allowed)
        if not allowed():
            return False
        await self.publisher.publish(outputs)
        metrics.observe(outputs, time.time())
        return True

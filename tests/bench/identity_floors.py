"""The floors under the identity processor (#9): faust workers that do only what identity cannot avoid.

Two kinds of ``tests.bench.identity_worker``, measured in the same run as the bare aiokafka loop and the
identity processor (``tests.bench.identity``):

* ``faust-bulk`` — the fastest faust-based consume path the project has: the input taken in bulk from
  faust's fetch exactly as identity's intake takes it (``bus.consume_bulk`` through
  ``processors.identity.bulk_intake.BulkIntake``: chunks of ``IdentitySettings.batch_size``, the
  ``bus.fencing`` fence, faust's commit of acknowledged offsets), one output record per input record sent
  through the project's producer (``EventProducer.send_batched``: identity's producer settings, one Kafka
  batch per partition, acknowledgements gathered per chunk), bytes untouched;
* ``faust-writes`` — the same, writing what identity must write for a repeat contact at the least: the
  contact re-keyed (to its customer) on the output topic, and one changelog record of a faust table per
  event (``processors.identity.store.FaustTables``' write: the table's data, a fenced changelog record on
  the key's partition, handed to the producer under ``state_writes.StateWrites``' lock and awaited with
  every earlier changelog), in identity's order: outputs acknowledged, fence checked, states written.

Both leave a chunk unacknowledged, to be taken again, while faust rebalances (from its rebalance start to
its "Worker ready", the tables' restore included): faust seeks the inputs back to their committed offsets
at the end of the restore, and a chunk published before that would come out twice (a start-up duplicate
that at-least-once allows, but that would count as an event here). Identity's intake has the same moment.

Neither decodes nor encodes Avro (identity must: ~20 µs per event decode, ~10 encode by profile), so both
are floors from below: the identity processor cannot cost less CPU per event than ``faust-writes``.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

from bus import group_lease
from bus.app import create_app
from bus.config import OmnibusSettings
from bus.fenced_table import fenced_table
from bus.fencing import AssignmentFence
from bus.logging import get_logger
from bus.producer import EventProducer
from bus.serde import build_serde
from bus.topic import KafkaRecord
from processors.identity.bulk_intake import BulkIntake
from processors.identity.state_writes import StateWrites
from processors.identity.store import FaustTables
from tests.processors.identity.support import settings as identity_settings

log = get_logger(__name__, component="bench")
FLOOR_KINDS = ("faust-bulk", "faust-writes")
CUSTOMER_KEY = b"customer-"  # the re-keyed contact's key: the input key under the customer's prefix


def rekeyed(key: bytes | None) -> bytes:
    """The key a repeat contact is re-published under (stands in for its customer id; same length class)."""
    return CUSTOMER_KEY + (key or b"")


async def faust_floor(kind: str, settings: OmnibusSettings, stop: asyncio.Event, datadir: str, sink: str,
                      inputs: Sequence[str]) -> None:
    """Run a ``faust-bulk`` or ``faust-writes`` worker (see the module) until ``stop`` is set."""
    writes = kind == "faust-writes"
    app_options = json.loads(os.environ.get("BENCH_APP") or "{}")  # as identity_worker's identity kind
    app = create_app(f"bench-{kind}", settings, datadir=datadir, **app_options)
    serializer, _ = build_serde(settings.registry)
    producer = EventProducer(settings, serializer)
    fence = AssignmentFence(lambda: app.consumer.assignment(), "bench", lease=group_lease.install(app),
                            confirm_within_s=float(app.conf.broker_heartbeat_interval))

    async def on_revoked(_app: Any, /, *_: Any, **__: Any) -> None:
        fence.revoked()

    app.on_partitions_revoked.connect(on_revoked)
    partitions = settings.topics.partitions
    table = fenced_table(app, "bench-profiles", settings.topics, key_type=bytes, value_type=bytes,
                         partitions=partitions, use_partitioner=True) if writes else None
    store = FaustTables(table, table, table, lambda: partitions) if table is not None else None
    state_writes = StateWrites()

    async def passthrough(records: Sequence[Any], allowed: Callable[[], bool]) -> bool:
        if app.rebalancing or not allowed():  # see the module doc: no start-up duplicates
            return False
        await producer.send_batched([KafkaRecord(sink, record.key, record.value) for record in records])
        return True

    async def minimum_writes(records: Sequence[Any], allowed: Callable[[], bool]) -> bool:
        assert store is not None and table is not None
        async with state_writes.lock:  # identity's order (apply_here.py): outputs, fence, states, changelog
            if app.rebalancing or not allowed():
                return False
            contacts = [KafkaRecord(sink, rekeyed(record.key), record.value) for record in records]
            await producer.send_batched(contacts)
            await fence.confirm()
            if not allowed():
                return False
            for contact in contacts:
                store._put(table, contact.key.decode(), contact.value)  # noqa: SLF001 - identity's write path
            changelog = await producer.hand_over(store.drain_changelog(app.consumer_generation_id))
            done = state_writes.settled(changelog)
        await done
        return True

    async def crash(stage: str, exc: Exception) -> None:
        log.exception("bench floor worker failed", stage=stage, error_type=type(exc).__name__)
        await app.crash(exc)
        raise exc

    bulk = BulkIntake(app, inputs, fence, minimum_writes if writes else passthrough, crash,
                      batch_size=identity_settings().batch_size)

    async def subscribed(stream: Any) -> None:  # makes faust subscribe and assign the inputs; bulk takes them
        async for _ in stream:
            pass

    app.agent(app.topic(*inputs), name=f"bench.{kind}")(subscribed)
    bulk.install()
    await producer.start()
    await app.start()
    await stop.wait()
    await bulk.stop()
    await app.stop()
    await producer.stop()

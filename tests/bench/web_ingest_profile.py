"""The web hall's ingest path in-process, no HTTP and no broker: where its CPU goes, per event.

    .venv/bin/python -m tests.bench.web_ingest_profile --events 5000 [--repeat 5] [--profile]

Each ``/v1/batch`` body (``--batch-size`` track calls, the bodies of ``tests.bench.web_ingest``) goes
through what the handler runs after reading the body: ``_parse``, then ``WebIngress._ingest`` (checks,
mapping, one Avro encoding per event, dedupe in an SQLite file), with a producer that encodes as the
real one does but sends nothing. Prints CPU microseconds per event (``time.process_time``);
``--stages`` adds each stage on its own (least of 5 tight loops over the same calls); ``--parts`` the
mapper's and the encoding's share inside the loop, where they cost more than alone (caches shared with the
rest; the person-id cache cold).
``--repeat`` runs it several times and prints the least and the median (on a machine shared with other
jobs the least is the one least disturbed); ``--profile`` adds cProfile's top functions by own time. For the cost with HTTP and Kafka, see
``tests.bench.web_ingest``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from aiohttp.test_utils import make_mocked_request

from adapters.base import wire
from adapters.base.cli import settle_gc
from adapters.base.dedupe import DedupeStore
from adapters.base.publisher import AdapterPublisher
from adapters.web.config import WebSettings
from adapters.web.ingress import WebIngress, _parse
from adapters.web.mapper import SegmentMapper
from bus.config import OmnibusSettings
from bus.producer import EventProducer, Outgoing
from bus.serde import SerdeContext, build_serde
from tests.bench.web_ingest import WRITE_KEY, batches


class EncodeOnlyProducer(EventProducer):
    """The real producer's encoding; publishing acknowledges at once (no broker)."""

    async def publish_many(self, items: Sequence[Outgoing], encoded: Sequence[bytes] | None = None,
                           batched: bool = False) -> list:
        return list(encoded) if encoded is not None else [await self.encode(item) for item in items]


async def cpu_per_event(events: int, batch_size: int, profile: cProfile.Profile | None = None,
                        given: str = "") -> float:
    """CPU µs per event of ``events`` track calls through the ingest path (see the module doc).

    ``given="mapped"``: the mapper answers with records it built before the clock started (the loop
    without mapping); ``given="encoded"``: the Avro encoding too (without either). ``--parts`` subtracts.
    """
    settings = OmnibusSettings()
    web = WebSettings(write_keys={"bench": WRITE_KEY})
    serializer, _ = build_serde(settings.registry)
    with tempfile.TemporaryDirectory() as tmp:
        dedupe = DedupeStore(Path(tmp) / "dedupe.sqlite", 86_400)
        publisher = AdapterPublisher("web", EncodeOnlyProducer(settings, serializer), dedupe, None,  # type: ignore[arg-type]
                                     retry_after_s=5)
        ingress = WebIngress(web, publisher, SegmentMapper(web, settings.topics, settings.identifiers))
        request = make_mocked_request("POST", "/v1/batch")

        async def one(body: bytes) -> None:
            payload = _parse(body, "application/json")
            response = await ingress._ingest(request, "bench", [(None, m) for m in payload["batch"]],
                                             time.perf_counter(), datetime.now(UTC), single=False,
                                             utf8=wire.may_hold_surrogates(body))
            if response.status != 200 or b'"rejected"' in response.body:  # type: ignore[operator]
                raise RuntimeError(f"ingest refused the bench's events: {response.body!r}")

        bodies = [json.dumps({"batch": batch, "writeKey": WRITE_KEY}).encode() for batch in batches(events, batch_size)]
        await one(json.dumps({"batch": batches(1, 1)[0], "writeKey": "warm-up"}).encode())
        if given:
            _give(ingress, publisher, bodies, encoded=given == "encoded")
        settle_gc()  # as the adapter does once serving
        started = time.process_time()
        if profile:
            profile.enable()
        for body in bodies:
            await one(body)
        if profile:
            profile.disable()
        spent = time.process_time() - started
        dedupe.close()
    return spent / events * 1e6


def _give(ingress: WebIngress, publisher: AdapterPublisher, bodies: list[bytes], *, encoded: bool) -> None:
    """Map (and with ``encoded`` encode) every message of ``bodies`` now; the ingress then only looks them up."""
    mapper, now = ingress._mapper, datetime.now(UTC)
    records = {m["messageId"]: mapper(m, source="bench", received_at=now)
               for body in bodies for m in wire.parse(body)["batch"]}
    ingress._mapper = lambda message, **_: records[message["messageId"]]  # type: ignore[assignment]
    if encoded:
        ready = {record.dedupe_id: publisher.encode_now(record) for record in records.values()}
        publisher.encode_now = lambda record: ready[record.dedupe_id]  # type: ignore[method-assign]


async def parts(events: int, batch_size: int, repeat: int) -> dict[str, float]:
    """CPU µs per event of mapping and of Avro encoding *inside* the ingest loop (interleaved with the rest,
    as served), and of everything else: the loop run whole, with mapped records given, and with encoded
    records given (least of ``repeat`` runs each)."""
    whole, mapped, encoded = [
        min([await cpu_per_event(events, batch_size, given=given) for _ in range(repeat)])
        for given in ("", "mapped", "encoded")]
    return {"Segment mapper, in the loop": whole - mapped, "Avro encoding and its layers, in the loop": mapped - encoded,
            "the rest (parse, check, dedupe, ingest loop, publisher)": encoded}


def stages(events: int, batch_size: int) -> dict[str, float]:
    """CPU µs per event of each stage of the ingest path on its own: JSON parse, the message check, the
    Segment mapper, Avro encoding (fastavro) and the dedupe store (an SQLite file: the ids of each batch
    looked up, then remembered)."""
    settings = OmnibusSettings()
    web = WebSettings(write_keys={"bench": WRITE_KEY})
    mapper = SegmentMapper(web, settings.topics, settings.identifiers)
    serializer, _ = build_serde(settings.registry)
    bodies = [json.dumps({"batch": batch, "writeKey": WRITE_KEY}).encode() for batch in batches(events, batch_size)]
    messages = [message for body in bodies for message in wire.parse(body)["batch"]]
    now = datetime.now(UTC)
    records = [mapper(message, source="bench", received_at=now) for message in messages]
    context = SerdeContext(topic="bench")

    def least(work: Callable[[], object], runs: int = 5) -> float:
        spent = []
        for _ in range(runs):
            started = time.process_time()
            work()
            spent.append(time.process_time() - started)
        return min(spent) / len(messages) * 1e6

    with tempfile.TemporaryDirectory() as tmp:
        dedupe = DedupeStore(Path(tmp) / "dedupe.sqlite", 86_400)
        ids = [[record.dedupe_id + f"#{run}" for record in records] for run in range(5)]
        runs = iter(ids)

        def dedupe_all() -> None:
            chunk_ids = next(runs)
            for start in range(0, len(chunk_ids), batch_size):
                dedupe.seen(chunk_ids[start : start + batch_size])
                dedupe.remember(chunk_ids[start : start + batch_size])

        figures = {
            "JSON parse (msgspec, with the pre-scan)": least(lambda: [wire.parse(body) for body in bodies]),
            "message check (wire.check_tree)": least(lambda: [wire.check_tree(m, utf8=False) for m in messages]),
            "Segment mapper": least(lambda: [mapper(m, source="bench", received_at=now) for m in messages]),
            "Avro encoding (fastavro schemaless_writer)": least(
                lambda: [serializer(event.event, context) for record in records for event in record.events]),
            "dedupe store (SQLite file, per batch)": least(dedupe_all),
        }
        dedupe.close()
    return figures


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.web_ingest_profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--stages", action="store_true", help="Also print each stage's own CPU per event.")
    parser.add_argument("--repeat", type=int, default=1, help="Runs; the least and the median are printed.")
    parser.add_argument("--profile", action="store_true", help="Also print cProfile's top 30 functions by own time.")
    parser.add_argument("--parts", action="store_true",
                        help="Also print mapping and encoding inside the loop (runs it with each given beforehand).")
    args = parser.parse_args(argv)
    profile = cProfile.Profile() if args.profile else None
    runs = sorted(asyncio.run(cpu_per_event(args.events, args.batch_size, profile)) for _ in range(args.repeat))
    result = runs[0]
    print(f"{args.events} events in batches of {args.batch_size}: {result:.1f} µs CPU per event"
          + (f" (least of {args.repeat} runs; median {runs[len(runs) // 2]:.1f})" if args.repeat > 1 else "")
          + (" (under cProfile: inflated)" if profile else ""))
    if args.stages:
        for name, figure in stages(args.events, args.batch_size).items():
            print(f"  {name}: {figure:.1f} µs per event")
    if args.parts:
        for name, figure in asyncio.run(parts(args.events, args.batch_size, args.repeat)).items():
            print(f"  {name}: {figure:.1f} µs per event")
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    return result


if __name__ == "__main__":
    main()

"""One worker process of the identity benchmark, until SIGTERM: the bench measures it from outside.

    python -m tests.bench.identity_worker KIND --bootstrap-servers HOST:PORT --prefix PREFIX [--partitions N]

KIND: ``aiokafka`` (bare consume → produce loop to the sink topic, bytes untouched, acknowledgements
gathered per batch), ``faust`` (bare faust pass-through agent, one ``send`` per event), ``faust-bulk`` and ``faust-writes``
(the floors under identity: ``tests.bench.identity_floors``), ``baseline``
(``processors.identity.baseline``), ``identity`` (``processors.identity.agent.IdentityProcessor``).
Every kind reads the identity processor's input topics; the sink topic is ``<prefix>.bench.sink.v1``.
Workers of one kind and prefix form one consumer group.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

from bus.app import create_app
from bus.config import OmnibusSettings, load_settings
from bus.kafka_client import connection_options
from bus.logging import configure_logging
from bus.producer import EventProducer
from bus.serde import build_serde
from bus.topic import KafkaRecord
from bus.topics import TopicSpec
from processors.identity.agent import input_topics
from processors.profile.book import ProfileBook
from tests.bench.identity_floors import FLOOR_KINDS, faust_floor
from tests.processors.identity.support import settings as identity_settings

SINK = TopicSpec("bench.sink.v1", "Where the pass-through baselines forward records.", key="as consumed")
KINDS = ("aiokafka", "faust", *FLOOR_KINDS, "baseline", "identity")
PASS_THROUGH = ("aiokafka", "faust", *FLOOR_KINDS)  # kinds that forward every input record to SINK


def bench_settings(bootstrap: str, prefix: str, partitions: int) -> OmnibusSettings:
    return load_settings(kafka={"bootstrap_servers": bootstrap}, topics={"prefix": prefix, "partitions": partitions},
                         metrics={"enabled": False})


def inputs(settings: OmnibusSettings) -> list[str]:
    return [spec.name(settings.topics) for spec in input_topics(ProfileBook.from_registry())]


async def aiokafka_loop(settings: OmnibusSettings, stop: asyncio.Event) -> None:
    sink = SINK.name(settings.topics)
    consumer = AIOKafkaConsumer(*inputs(settings), group_id=f"{settings.topics.prefix}.bench-aiokafka",
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                **connection_options(settings.kafka))
    serializer, _ = build_serde(settings.registry)
    async with EventProducer(settings, serializer) as producer:
        await consumer.start()
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=100, max_records=2000)
                records = [KafkaRecord(sink, r.key, r.value) for rs in batch.values() for r in rs]
                if records:
                    await producer.send(records)
                    await consumer.commit()
        finally:
            await consumer.stop()


async def faust_passthrough(settings: OmnibusSettings, stop: asyncio.Event, datadir: str) -> None:
    app = create_app("bench-passthrough", settings, datadir=datadir)
    sink = app.topic(SINK.name(settings.topics))

    @app.agent(app.topic(*inputs(settings)))
    async def forward(stream):  # type: ignore[no-untyped-def]
        async for event in stream.events():
            await sink.send(key=event.message.key, value=event.message.value)

    await app.start()
    await stop.wait()
    await app.stop()


async def baseline(settings: OmnibusSettings, stop: asyncio.Event) -> None:
    from processors.identity.baseline.worker import BaselineWorker

    worker = BaselineWorker(settings, identity_settings())
    task = asyncio.create_task(worker.run())
    await stop.wait()
    worker.stop()
    await task


def _spy() -> subprocess.Popen[bytes]:
    """py-spy sampling this worker from now on (``BENCH_IDENTITY_SPY="PY_SPY OUTPUT"``, tests.bench.identity_profile):
    250 samples a second, non-blocking (the worker is never stopped), raw stacks written to OUTPUT."""
    program, output = os.environ["BENCH_IDENTITY_SPY"].split(" ", 1)
    return subprocess.Popen([program, "record", "--pid", str(os.getpid()), "--rate", "250", "--format", "raw",
                             "--output", output, "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _time_collections() -> dict[int, list[float]]:
    """Collections and CPU seconds of the garbage collector, per generation (``BENCH_IDENTITY_COUNTERS``)."""
    import gc

    spent: dict[int, list[float]] = {}
    started = [0.0]

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.thread_time()
        else:
            entry = spent.setdefault(info["generation"], [0, 0.0])
            entry[0] += 1
            entry[1] += time.thread_time() - started[0]

    gc.callbacks.append(timed)
    return spent


def _count_written(processor: Any) -> dict[str, list[int]]:
    """Records and bytes (key + value + headers) the worker hands to Kafka, per topic (``BENCH_IDENTITY_COUNTERS``)."""
    written: dict[str, list[int]] = {}
    hand_over = processor.producer.hand_over

    async def counted(records: Any) -> Any:
        for record in records:
            entry = written.setdefault(record.topic, [0, 0])
            entry[0] += 1
            entry[1] += len(record.key or b"") + len(record.value or b"") + sum(
                len(name) + len(value) for name, value in record.headers)
        return await hand_over(records)

    processor.producer.hand_over = counted
    return written


async def identity(settings: OmnibusSettings, stop: asyncio.Event, datadir: str) -> None:
    from processors.identity.agent import IdentityProcessor

    # BENCH_IDENTITY / BENCH_APP: JSON overrides of the identity settings / faust app options (experiments)
    overrides, app_options = (json.loads(os.environ.get(name) or "{}") for name in ("BENCH_IDENTITY", "BENCH_APP"))
    processor = IdentityProcessor(settings, identity_settings(**overrides), datadir=datadir, **app_options)
    written = _count_written(processor) if os.environ.get("BENCH_IDENTITY_COUNTERS") else None
    collections = _time_collections() if os.environ.get("BENCH_IDENTITY_COUNTERS") else None
    await processor.start()
    spy = _spy() if os.environ.get("BENCH_IDENTITY_SPY") else None
    await stop.wait()
    if spy is not None:  # py-spy writes its samples when interrupted
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
    if memory_file := os.environ.get("BENCH_IDENTITY_MEMORY"):  # tests.bench.identity_memory --kafka: the tables
        from tests.bench.identity_memory import worker_report

        Path(memory_file).write_text(json.dumps(worker_report(processor)))
    await processor.stop()
    if os.environ.get("BENCH_IDENTITY_COUNTERS"):  # the protocol's counters, to the worker's log (experiments)
        from prometheus_client import REGISTRY

        for metric in REGISTRY.collect():
            if metric.name.startswith(("omnibus_identity_fast_path", "omnibus_identity_graph_messages")):
                for sample in metric.samples:
                    if sample.name.endswith("_total"):
                        print(f"COUNTER {sample.name} {sample.labels} {sample.value:.0f}", flush=True)
        for topic, (records, size) in sorted((written or {}).items()):  # what the worker wrote, per topic
            print(f"COUNTER written {topic} records {records} bytes {size}", flush=True)
        for generation, (count, seconds) in sorted((collections or {}).items()):  # the garbage collector's share
            print(f"COUNTER gc generation {generation} collections {count} cpu_s {seconds:.3f}", flush=True)
        times = os.times()  # user and kernel CPU of the worker's life: a socket write to the broker is kernel time
        print(f"COUNTER cpu user_s {times.user:.3f} system_s {times.system:.3f}", flush=True)


async def serve(kind: str, settings: OmnibusSettings, datadir: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if kind == "aiokafka":
        await aiokafka_loop(settings, stop)
    elif kind == "faust":
        await faust_passthrough(settings, stop, datadir)
    elif kind in FLOOR_KINDS:
        await faust_floor(kind, settings, stop, datadir, SINK.name(settings.topics), inputs(settings))
    elif kind == "baseline":
        await baseline(settings, stop)
    else:
        await identity(settings, stop, datadir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--datadir", default=None)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    settings = bench_settings(args.bootstrap_servers, args.prefix, args.partitions)
    configure_logging(args.log_level, json_output=False)
    datadir = args.datadir or tempfile.mkdtemp(prefix=f"omnibus-bench-{args.kind}-")
    Path(datadir).mkdir(parents=True, exist_ok=True)
    profile_dir = os.environ.get("BENCH_IDENTITY_PROFILE")  # tests.bench.identity_speed --profile DIR
    if profile_dir and args.kind == "identity":
        import cProfile

        with cProfile.Profile(time.thread_time) as profiler:  # CPU of the event loop's thread, not wall time
            asyncio.run(serve(args.kind, settings, datadir))
        profiler.dump_stats(str(Path(profile_dir) / f"identity-{os.getpid()}.prof"))
        return
    asyncio.run(serve(args.kind, settings, datadir))


if __name__ == "__main__":
    main()

"""Processor start benchmark: from the start of the demo's middleware to the first record of every input partition.

    .venv/bin/python -m tests.bench.first_record --starts 20 [--bootstrap host:port] [--output FILE]

Each start makes a fresh topic prefix, puts one record (not Avro: each becomes a dead letter) on every partition of
every topic, and starts the demo's middleware (``demo.services.running_middleware``: the adapters, identity,
handoffs, offers and KPI processors in one process). Per processor and input partition it notes when the first
record was handed on (faust's ``on_message_in``; identity takes its records in bulk, so a committed offset there) and
reports, per processor, the median and worst of those times over the starts and the partitions whose first record
came later than ``bus.lag_watchdog.STALL_AFTER_S``: found only by the lag watchdog's seek (fetch47: the KPI worker's
every input partition at 81 s in 1 of 29 starts before ``bus.fetch_active``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from faust.sensors.base import Sensor

from bus import app as bus_app
from bus import lag_watchdog
from bus.stack.kafka import KafkaBroker
from bus.topics import ALL_TOPICS
from tests.support.fault_report import machine
from tests.support.settings import settings_with_topics

TIMEOUT_S = lag_watchdog.STALL_AFTER_S + 3 * lag_watchdog.INTERVAL_S  # past the watchdog's cure


class FirstRecords(Sensor):
    """Seconds from ``started`` to the first record of each partition handed on (``"topic:partition"``)."""

    def __init__(self, started: float) -> None:
        super().__init__()
        self.t0 = started
        self.first: dict[str, float] = {}

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        self.first.setdefault(f"{tp.topic}:{tp.partition}", time.monotonic() - self.t0)

    def note_committed(self, app: Any) -> None:
        """A partition taken in bulk (``bus.consume_bulk``) passes no sensor: its first commit stands for it."""
        for tp, offset in list(app.consumer._committed_offset.items()):  # noqa: SLF001 - faust's own bookkeeping
            if offset:
                self.first.setdefault(f"{tp.topic}:{tp.partition}", time.monotonic() - self.t0)


@contextmanager
def watched_apps(started: float) -> Iterator[list[tuple[Any, FirstRecords]]]:
    """Every app the processors make meanwhile (each module's ``create_app``), each with its ``FirstRecords``."""
    from processors.handoffs import agent as handoffs
    from processors.identity import agent as identity
    from processors.kpis import agent as kpis
    from processors.offers import agent as offers

    apps: list[tuple[Any, FirstRecords]] = []

    def create_watched(*args: Any, **kwargs: Any) -> Any:
        app = bus_app.create_app(*args, **kwargs)
        sensor = FirstRecords(started)
        app.sensors.add(sensor)
        apps.append((app, sensor))
        return app

    modules = (handoffs, identity, kpis, offers)
    for module in modules:
        module.create_app = create_watched  # type: ignore[attr-defined]
    try:
        yield apps
    finally:
        for module in modules:
            module.create_app = bus_app.create_app  # type: ignore[attr-defined]


Start = dict[str, dict[str, float]]  # processor -> {"topic:partition": seconds to its first record}


async def one_start(bootstrap: str) -> Start:
    from demo.services import running_middleware

    settings = await settings_with_topics(bootstrap, log={"level": "WARNING"})
    counts = {spec.name(settings.topics): spec.partition_count(settings.topics) for spec in ALL_TOPICS}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for topic, partitions in counts.items():
            for partition in range(partitions):
                await producer.send_and_wait(topic, b"not avro", key=b"key", partition=partition)
    finally:
        await producer.stop()
    started = time.monotonic()
    with watched_apps(started) as apps, tempfile.TemporaryDirectory() as workdir:
        async with running_middleware(settings, Path(workdir)):
            wanted = {app: {f"{t}:{p}" for t in bus_app.subscribed_topics(app, settings) for p in range(counts[t])}
                      for app, _ in apps}
            while time.monotonic() - started < TIMEOUT_S:
                for app, sensor in apps:
                    sensor.note_committed(app)
                if all(wanted[app] <= set(sensor.first) for app, sensor in apps):
                    break
                await asyncio.sleep(0.2)
            return {app.conf.id.split(".", 1)[1]: {tp: sensor.first.get(tp, float("inf")) for tp in wanted[app]}
                    for app, sensor in apps}


def report(command: str, starts: list[Start]) -> str:
    lines = [f"## Run: `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", "",
             f"Machine: {machine()}.", "",
             "| processor | starts | first record per partition: median s | worst s | "
             f"partitions later than {lag_watchdog.STALL_AFTER_S:g} s (starts) |", "|---|---:|---:|---:|---:|"]
    for name in sorted({name for start in starts for name in start}):
        seconds = [s for start in starts for s in start.get(name, {}).values()]
        late = [start for start in starts if any(s > lag_watchdog.STALL_AFTER_S for s in start.get(name, {}).values())]
        late_partitions = sum(s > lag_watchdog.STALL_AFTER_S for s in seconds)
        lines.append(f"| {name} | {len(starts)} | {statistics.median(seconds):.2f} | {max(seconds):.2f} | "
                     f"{late_partitions} ({len(late)}) |")
    return "\n".join([*lines, ""])


async def bench(bootstrap: str, count: int) -> list[Start]:
    starts: list[Start] = []
    for index in range(count):
        starts.append(await one_start(bootstrap))
        worst = {name: round(max(values.values()), 2) for name, values in starts[-1].items()}
        print(f"start {index + 1}: worst first record per processor, s: {worst}", flush=True)
    return starts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--bootstrap", help="a running broker (host:port); default: start one here")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    args = parser.parse_args()
    command = f".venv/bin/python -m tests.bench.first_record --starts {args.starts}" + \
        (f" --bootstrap {args.bootstrap}" if args.bootstrap else "")
    if args.bootstrap:
        starts = asyncio.run(bench(args.bootstrap, args.starts))
    else:
        with tempfile.TemporaryDirectory() as directory:
            broker = KafkaBroker(Path(directory))
            broker.start()
            try:
                starts = asyncio.run(bench(broker.bootstrap_servers, args.starts))
            finally:
                broker.stop()
    text = report(command, starts)
    if args.output:
        args.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

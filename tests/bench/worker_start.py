"""Worker start benchmark (ci45): from ``app.start()`` to the first record handled, with faust's table manager
(baseline, its 1.0 s wait before registering the tables) and with ``bus.table_manager``'s (no wait).

    .venv/bin/python -m tests.bench.worker_start --rounds 6 [--bootstrap host:port]

Each round starts two apps made by ``bus.app.create_app``, one per table manager, in alternating order, each with a
fenced table and an agent that writes each record of a one-partition topic (a fresh prefix's
``identifiers.observed``) to it; a record is produced before the start. Against ``--bootstrap`` (a running
broker), or a KRaft broker started here. Results: ``tests/bench/results/worker_start.md`` (median and spread per
variant, same-run ratio).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from faust.tables.manager import TableManager as FaustTableManager

from bus.app import create_app
from bus.fenced_table import fenced_table
from bus.stack.kafka import KafkaBroker
from bus.table_manager import TableManager
from bus.topics import IDENTIFIERS_OBSERVED
from tests.support.fault_report import machine
from tests.support.settings import settings_with_topics

RESULTS = Path(__file__).resolve().parent / "results" / "worker_start.md"
VARIANTS: dict[str, Any] = {"faust TableManager (1.0 s wait)": FaustTableManager,
                            "bus.table_manager.TableManager": TableManager}


async def start_to_first_record(bootstrap: str, manager: Any) -> float:
    """Seconds from ``app.start()`` to the agent's first record written to its table."""
    settings = await settings_with_topics(bootstrap, partitions=1)
    topic = IDENTIFIERS_OBSERVED.name(settings.topics)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    await producer.send_and_wait(topic, b"value", key=b"key")
    await producer.stop()
    with tempfile.TemporaryDirectory() as datadir:
        app = create_app(f"bench-start-{uuid.uuid4().hex[:6]}", settings, datadir=datadir, TableManager=manager)
        table = fenced_table(app, "bench-start", settings.topics, default=None, partitions=1)
        handled = asyncio.Event()

        @app.agent(app.topic(topic))
        async def write(stream: Any) -> None:
            async for event in stream.events():
                table[event.key] = event.value
                handled.set()

        started = time.monotonic()
        await app.start()
        try:
            await asyncio.wait_for(handled.wait(), 120)
            return time.monotonic() - started
        finally:
            await app.stop()


async def bench(bootstrap: str, rounds: int) -> dict[str, list[float]]:
    seconds: dict[str, list[float]] = {name: [] for name in VARIANTS}
    names = list(VARIANTS)
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else reversed(names):
            seconds[name].append(await start_to_first_record(bootstrap, VARIANTS[name]))
            print(f"round {round_ + 1}: {name}: {seconds[name][-1]:.2f} s", flush=True)
    return seconds


def report(command: str, seconds: dict[str, list[float]]) -> str:
    lines = ["# Worker start: app.start() to the first record handled", "",
             f"Run: `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", "",
             f"Machine: {machine()}.", "",
             "| table manager | rounds | median s | min s | max s |", "|---|---:|---:|---:|---:|"]
    for name, values in seconds.items():
        lines.append(f"| {name} | {len(values)} | {statistics.median(values):.2f} | {min(values):.2f} | "
                     f"{max(values):.2f} |")
    baseline, ours = (statistics.median(values) for values in seconds.values())
    lines += ["", f"Same-run difference of the medians: {baseline - ours:.2f} s per start "
              f"(ratio {baseline / ours:.2f}x).", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--bootstrap", help="a running broker (host:port); default: start one here")
    args = parser.parse_args()
    command = f".venv/bin/python -m tests.bench.worker_start --rounds {args.rounds}" + \
        (f" --bootstrap {args.bootstrap}" if args.bootstrap else "")
    if args.bootstrap:
        seconds = asyncio.run(bench(args.bootstrap, args.rounds))
    else:
        with tempfile.TemporaryDirectory() as directory:
            broker = KafkaBroker(Path(directory))
            broker.start()
            try:
                seconds = asyncio.run(bench(broker.bootstrap_servers, args.rounds))
            finally:
                broker.stop()
    text = report(command, seconds)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

"""Worker start benchmark: from ``app.start()`` to the first record handled, with faust's own waits (baseline: the
table manager's 1.0 s before registering the tables, a fetch's 1.5 s long poll), then without the first
(``bus.table_manager``), then without both (``bus.fetch_wait``: 500 ms).

    .venv/bin/python -m tests.bench.worker_start --rounds 6 [--bootstrap host:port]

Each round starts one app per variant, made by ``bus.app.create_app``, in alternating order, each with a
fenced table and an agent that writes each record of a one-partition topic (a fresh prefix's
``identifiers.observed``) to it; a record is produced before the start. Against ``--bootstrap`` (a running
broker), or a KRaft broker started here. Results: ``tests/bench/results/worker_start.md`` (median and spread per
variant, same-run ratios; a new run goes on top of the file).
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

from bus import fetch_wait
from bus.app import create_app
from bus.fenced_table import fenced_table
from bus.stack.kafka import KafkaBroker
from bus.table_manager import TableManager
from bus.topics import IDENTIFIERS_OBSERVED
from tests.support.fault_report import machine
from tests.support.settings import settings_with_topics

RESULTS = Path(__file__).resolve().parent / "results" / "worker_start.md"
TITLE = "# Worker start: app.start() to the first record handled"
FAUST_FETCH_MAX_WAIT_MS = 1500  # faust 0.15's AIOKafkaConsumerThread._create_worker_consumer
# name: (table manager, a fetch's longest wait at the broker in ms)
VARIANTS: dict[str, tuple[Any, int]] = {
    "faust's waits (TableManager 1.0 s, fetch 1.5 s)": (FaustTableManager, FAUST_FETCH_MAX_WAIT_MS),
    "bus.table_manager, faust's fetch 1.5 s": (TableManager, FAUST_FETCH_MAX_WAIT_MS),
    "bus.table_manager + bus.fetch_wait (500 ms)": (TableManager, fetch_wait.FETCH_MAX_WAIT_MS),
}


async def start_to_first_record(bootstrap: str, manager: Any, fetch_max_wait_ms: int) -> tuple[float, float]:
    """Seconds from ``app.start()`` to the agent's first record written to its table, and from the tables' restore
    (faust's ``on_rebalance_complete``) to that record."""
    fetch_wait.FETCH_MAX_WAIT_MS = fetch_max_wait_ms  # read when the app's consumer is built
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
        restored: list[float] = []

        @app.on_rebalance_complete.connect
        async def on_restored(sender: Any, **_: Any) -> None:
            restored.append(time.monotonic())

        @app.agent(app.topic(topic))
        async def write(stream: Any) -> None:
            async for event in stream.events():
                table[event.key] = event.value
                handled.set()

        started = time.monotonic()
        await app.start()
        try:
            await asyncio.wait_for(handled.wait(), 120)
            now = time.monotonic()
            return now - started, now - restored[-1]
        finally:
            await app.stop()


Timings = dict[str, list[tuple[float, float]]]  # variant -> per round (start to first record, restore to it), s


async def bench(bootstrap: str, rounds: int) -> Timings:
    seconds: Timings = {name: [] for name in VARIANTS}
    names = list(VARIANTS)
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else reversed(names):
            seconds[name].append(await start_to_first_record(bootstrap, *VARIANTS[name]))
            start_s, restore_s = seconds[name][-1]
            print(f"round {round_ + 1}: {name}: {start_s:.2f} s, {restore_s:.3f} s after the restore", flush=True)
    fetch_wait.FETCH_MAX_WAIT_MS = VARIANTS[names[-1]][1]
    return seconds


def report(command: str, seconds: Timings) -> str:
    lines = [f"## Run: `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", "",
             f"Machine: {machine()}.", "",
             "| variant | rounds | start to first record: median s | min s | max s | × baseline (medians) | "
             "restore to first record: median s | max s |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    baseline = statistics.median(start for start, _ in next(iter(seconds.values())))
    for name, values in seconds.items():
        starts, restores = [start for start, _ in values], [restore for _, restore in values]
        median = statistics.median(starts)
        lines.append(f"| {name} | {len(values)} | {median:.2f} | {min(starts):.2f} | {max(starts):.2f} | "
                     f"{median / baseline:.2f} | {statistics.median(restores):.3f} | {max(restores):.3f} |")
    medians = [statistics.median(start for start, _ in values) for values in seconds.values()]
    lines += ["", "Same-run differences of the medians, each variant against the one above: "
              + ", ".join(f"{before - after:.2f} s" for before, after in zip(medians, medians[1:], strict=False))
              + " per start.", ""]
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
    title, _, earlier = RESULTS.read_text().partition("\n") if RESULTS.exists() else (TITLE, "", "")
    RESULTS.write_text(f"{title}\n\n{text}\n{earlier.lstrip()}")
    print(text)


if __name__ == "__main__":
    main()

"""Handoff tracker benchmark: lifecycle transitions per second, and the deadline scan with 1 M open handoffs.

    .venv/bin/python -m tests.bench.handoffs --handoffs 20000 --open 1000000 --ticks 120 [--output FILE]

Prints the report (a Markdown page); ``--output FILE`` also writes it to FILE, which it replaces. Without the flag
nothing is written: ``tests/bench/results/handoffs.md`` keeps every earlier run, each section added by hand with its
command and machine (as ``two_workers`` and ``state_growth``).

In-process and without a broker: the real ``HandoffTracker`` (state machine, table codec, due index)
on a dict table, publishing to a sink that Avro-encodes every output with the production serializer
and drops the bytes. Kafka's own cost is measured by the web-ingest benchmark.

1. Transitions: ``--handoffs`` handoffs, each created, acknowledged, accepted and resolved.
   Baseline (same run): Avro-encoding the same output events alone, the floor any tracker pays.
2. Deadline scan: ``--open`` open handoffs created uniformly over the 20 hours before the scan starts
   (so their 50 %, 75 % and breach timers fall due all along), spread over ``--partitions``
   partitions. After one catch-up round (what fell due during those 20 hours), ``--ticks`` tick rounds, 5 simulated seconds apart, each ticking every partition:
   the cost of a round and what it fired. Also the due-index rebuild (what a restart costs).
   Baseline (same run): one pass over the table checking each handoff's next due instant, what a
   scan without the due index would pay every round.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import platform
import resource
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bus.producer import Outgoing
from bus.serde import SerdeContext, SingleObjectSerializer
from bus.clock import ManualClock, to_micros
from processors.handoffs.config import AcknowledgementPolicy, HandoffPolicy
from processors.handoffs.outputs import Emitter
from processors.handoffs.tracker import Destinations, HandoffTracker
from schemas.catalog import default_catalog
from tests.bench.output import add_output, write
from tests.processors.handoffs.factories import (
    SYSTEM, FakeDeadLetters, accepted, acknowledged, created, record, resolved,
)

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
# Acknowledgement checks far away: the scan measures warnings, breaches and escalations.
POLICY = HandoffPolicy(acknowledgement=AcknowledgementPolicy(timeout_minutes=30 * 24 * 60))


class EncodingSink:
    """Encodes every output as the producer would, then drops it."""

    def __init__(self, keep: bool = False) -> None:
        self.serializer = SingleObjectSerializer(default_catalog())
        self.encoded = 0
        self.kept: list[Outgoing] = [] if keep else None  # type: ignore[assignment]

    async def publish_many(self, items: Sequence[Outgoing]) -> None:
        for item in items:
            self.serializer(item.event, SerdeContext(topic=item.topic))
        self.encoded += len(items)
        if self.kept is not None:
            self.kept.extend(items)


def tracker(sink: Any, store: dict) -> HandoffTracker:
    return HandoffTracker(POLICY, Emitter(SYSTEM, ManualClock(START)), store, sink, FakeDeadLetters(),
                          Destinations("events", "notifications"))


async def transitions(handoffs: int) -> dict[str, float]:
    events = []
    for i in range(handoffs):
        h, at = f"h{i}", START + timedelta(seconds=i)
        events += [created(h, at), acknowledged(h, at + timedelta(minutes=5)), accepted(h, at + timedelta(minutes=10)),
                   resolved(h, at + timedelta(hours=2))]
    ordered = sorted(events, key=lambda e: e.value["envelope"]["occurred_at"])
    sink, raw = EncodingSink(keep=True), record()
    t = tracker(sink, {})
    gc.collect()
    started = time.perf_counter()
    for event in ordered:
        await t.handle(event, raw)
    seconds = time.perf_counter() - started
    baseline = EncodingSink()
    started = time.perf_counter()
    await baseline.publish_many(sink.kept)
    baseline_s = time.perf_counter() - started
    return {"transitions": len(ordered), "seconds": seconds, "outputs": sink.encoded, "baseline_s": baseline_s}


async def scan(open_handoffs: int, partitions: int, ticks: int) -> dict[str, Any]:
    store: dict[str, dict] = {}
    fill = tracker(EncodingSink(), store)
    fill.publisher = _NullSink()
    spread_us = 20 * 3600 * 1_000_000
    started = time.perf_counter()
    for i in range(open_handoffs):
        at = START - timedelta(microseconds=spread_us - spread_us * i // open_handoffs)
        await fill.handle(created(f"h{i:07d}", at), record(partition=i % partitions))
    fill_s = time.perf_counter() - started
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    sink = EncodingSink()
    t = tracker(sink, store)
    started = time.perf_counter()
    entries = t.index.rebuild(store.items(), range(partitions))
    rebuild_s = time.perf_counter() - started

    started = time.perf_counter()  # what fell due during the 20 hours of filling: not the steady state
    caught_up = sum([await t.tick(p, to_micros(START)) for p in range(partitions)])
    catch_up_s = time.perf_counter() - started
    sink.encoded = 0

    rounds, fired = [], []
    for n in range(1, ticks + 1):
        now = to_micros(START + timedelta(seconds=5 * n))
        started = time.perf_counter()
        fired.append(sum([await t.tick(p, now) for p in range(partitions)]))
        rounds.append(time.perf_counter() - started)

    idle = []  # the same instant again: nothing is due, this is the cost of asking the index
    for _ in range(20):
        started = time.perf_counter()
        for p in range(partitions):
            await t.tick(p, now)
        idle.append(time.perf_counter() - started)

    baseline = []
    for n in range(1, min(ticks, 5) + 1):
        now = to_micros(START + timedelta(seconds=5 * n))
        started = time.perf_counter()
        sum(1 for state in store.values() if state["next_due_us"] is not None and state["next_due_us"] <= now)
        baseline.append(time.perf_counter() - started)
    return {
        "open": open_handoffs, "fill_s": fill_s, "rss_mib": rss_mib, "entries": entries, "rebuild_s": rebuild_s,
        "rounds": rounds, "fired": fired, "outputs": sink.encoded, "baseline": baseline, "idle": idle, "caught_up": caught_up,
        "catch_up_s": catch_up_s,
    }


class _NullSink:
    async def publish_many(self, items: Sequence[Outgoing]) -> None:
        return None


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal"))
    import os

    return (f"{os.cpu_count()} cores ({cpu}), {memory_kb / 1024 / 1024:.0f} GiB RAM, Python "
            f"{platform.python_version()}, {platform.system()} {platform.release()}")


def report(args: argparse.Namespace, tr: dict[str, float], sc: dict[str, Any]) -> str:
    rate = tr["transitions"] / tr["seconds"]
    base_rate = tr["outputs"] / tr["baseline_s"]
    rounds_ms = [r * 1000 for r in sc["rounds"]]
    p99 = statistics.quantiles(rounds_ms, n=100)[98] if len(rounds_ms) >= 2 else rounds_ms[0]
    fired_total = sum(sc["fired"])
    base_ms = statistics.mean(sc["baseline"]) * 1000
    mean_ms = statistics.mean(rounds_ms)
    idle_ms = statistics.mean(sc["idle"]) * 1000
    return f"""# Handoff tracker benchmark

Run: `.venv/bin/python -m tests.bench.handoffs --handoffs {args.handoffs} --open {args.open} --partitions {args.partitions} --ticks {args.ticks}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.

Machine: {machine()}. One process, no broker: the real tracker on a dict table, every output Avro-encoded
(single-object, production serializer) and dropped. Policy: the classic one (20 h round the clock,
warnings at 50 % and 75 %, chain of three 20 h tiers).

## Transitions

{args.handoffs} handoffs, each created, acknowledged, accepted, resolved (in time order).

| path | transitions | outputs | seconds | transitions/s | outputs/s |
|---|---:|---:|---:|---:|---:|
| tracker: apply + state codec + due index + Avro-encode outputs | {tr["transitions"]:,} | {tr["outputs"]:,} | {tr["seconds"]:.2f} | {rate:,.0f} | {tr["outputs"] / tr["seconds"]:,.0f} |
| baseline: Avro-encode the same outputs only | - | {tr["outputs"]:,} | {tr["baseline_s"]:.2f} | - | {base_rate:,.0f} |

Ratio (tracker time / encode-only time): {tr["seconds"] / tr["baseline_s"]:.1f}x.

## Deadline scan with {sc["open"]:,} open handoffs

Filled through the tracker (`HandoffCreated` each) in {sc["fill_s"]:.1f} s ({sc["open"] / sc["fill_s"]:,.0f} creations/s);
peak RSS {sc["rss_mib"]:,.0f} MiB. {args.partitions} partitions.

| measure | value |
|---|---:|
| due-index rebuild from the table (restart/rebalance), {sc["entries"]:,} entries | {sc["rebuild_s"]:.2f} s |
| catch-up round: what fell due while filling ({sc["caught_up"]:,} handoffs fired) | {sc["catch_up_s"]:.1f} s |
| tick rounds (all partitions, 5 simulated s apart) | {len(rounds_ms)} |
| handoffs fired per round, mean | {fired_total / len(rounds_ms):.0f} |
| outputs published over all rounds | {sc["outputs"]:,} |
| cost of a round, mean | {mean_ms:.1f} ms |
| cost of a round, p99 | {p99:.1f} ms |
| cost per fired handoff | {sum(sc["rounds"]) / max(fired_total, 1) * 1e6:.0f} µs |
| round with nothing due (the index lookup alone), mean | {idle_ms * 1000:.0f} µs |
| baseline: one pass over the table checking due instants (no firing), mean | {base_ms:.1f} ms |

Ratios: baseline pass / indexed round (which also fires and Avro-encodes what is due) {base_ms / mean_ms:.1f}x;
baseline pass / index lookup with nothing due {base_ms / idle_ms:,.0f}x. A round costs in proportion to what
is due, not to how many handoffs are open.
"""


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--handoffs", type=int, default=20_000, help="Handoffs in the transitions run.")
    parser.add_argument("--open", type=int, default=1_000_000, help="Open handoffs in the scan run.")
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--ticks", type=int, default=120, help="Tick rounds in the scan run.")
    add_output(parser)
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> str:
    return write(report(args, await transitions(args.handoffs), await scan(args.open, args.partitions, args.ticks)),
                 args.output)


if __name__ == "__main__":
    print(asyncio.run(run(parse())))

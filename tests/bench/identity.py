"""Benchmark (#9 "Done when"): the identity processor beside a bare aiokafka loop, a bare faust pass-through
and the single-writer baseline, with Kafka in the loop; its scaling, latency and state memory.

    .venv/bin/python -m tests.bench.identity --events 20000 --memory-identifiers 1000000 [--output FILE]

Prints the report; ``--output FILE`` also writes it to FILE (``tests.bench.output``): ``results/identity.md`` keeps
the runs, each section added by hand.

Every run is a worker process (``tests.bench.identity_worker``) on a fresh set of topics of one local
broker. Input: ``identity_workload.contact_mix`` (contacts; 80% repeat an identifier combination seen
before, 20% are a new person or a known person with a new identifier). Rates run from the first output
record to the last (Kafka CreateTime; start-up excluded), over input loaded before the worker started.
Worker CPU is read from /proc every 50 ms and taken over the same window. Two workers: both started,
warmed up and in a Stable group before the input is loaded; compared with one worker run the same way.
Latency: input paced at half the one-worker rate; event → its record on ``customer.contacts``
(CreateTime of each). Memory: graph and profile state of ``--memory-identifiers`` identifiers built in
process by the same handlers, measured with tracemalloc as faust's memory store holds it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bus.config import OmnibusSettings
from bus.topic_admin import apply_topics
from tests.bench.identity_latency import breakdown, graph_times
from tests.bench.identity_report import report
from tests.bench.identity_runs import (
    Item,
    Workers,
    in_times,
    load,
    load_paced,
    out_times,
    output_topic,
    stalled_partitions,
    wait_for_group,
    wait_for_records,
)
from tests.bench.identity_state import baseline_memory
from tests.bench.identity_floors import FLOOR_KINDS
from tests.bench.identity_worker import PASS_THROUGH, SINK
from tests.bench.identity_workload import CONTACTS, contact_mix
from tests.bench.output import add_output, write
from tests.support.settings import settings_with_topics

try:  # the proto package's measurement, part by part, once it has landed
    from tests.bench.identity_memory import state_memory
except ImportError:
    from tests.bench.identity_state import state_memory

WARMUP = 200  # events a live-loaded run sends first and waits for (workers assigned and running)
WARMUP_S = 120.0  # the longest wait for them
IDLE_S = 5.0  # warmed-up live workers measured idle this long before the input is loaded
NO_STANDBY = {"BENCH_APP": '{"table_standby_replicas": 0}'}  # two workers without faust's standby replicas


@dataclass(frozen=True)
class Measured:
    kind: str
    workers: int
    events: int
    seconds: float  # first output record (identity: first graph record) to last
    cpu_s: float  # of the worker processes, same window
    idle_cpu: float = float("nan")  # live runs: CPU seconds per second of all workers, warmed up and idle
    life_cpu_s: float = float("nan")  # of the worker processes from start to stop (start-up included)

    @property
    def rate(self) -> float:
        return (self.events - 1) / self.seconds if self.seconds > 0 else float("nan")

    @property
    def per_cpu_s(self) -> float:
        return (self.events - 1) / self.cpu_s if self.cpu_s > 0 else float("nan")


async def finished(settings: OmnibusSettings, kind: str, wanted: list[str] | int, workers: Workers,
                    timeout_s: float) -> dict[str, float]:
    """The output times once every wanted event (ids, or a record count for the pass-throughs) is out."""
    topic, deadline = output_topic(kind, settings), time.monotonic() + timeout_s
    count = wanted if isinstance(wanted, int) else len(wanted)
    while True:
        await wait_for_records(settings, topic, count, workers, max(deadline - time.monotonic(), 1))
        times = await out_times(settings, kind)
        if isinstance(wanted, int) or all(event_id in times for event_id in wanted):
            return times
        if time.monotonic() > deadline:
            raise TimeoutError(f"{kind}: {len(times)} of {count} events came out")
        await asyncio.sleep(0.5)


def event_ids(items: list[Item]) -> list[str]:
    return [event.value["envelope"]["event_id"] for _, _, event in items]


def group_of(kind: str, prefix: str) -> str:
    """The consumer group of a kind's workers (``identity_worker``: each kind's app or consumer id)."""
    named = {"aiokafka": "bench-aiokafka", "faust": "bench-passthrough"}
    return f"{prefix}.{named.get(kind, f'bench-{kind}' if kind in FLOOR_KINDS else kind)}"


async def measure(kind: str, bootstrap: str, items: list[Item], partitions: int, workdir: Path, *,
                  workers: int = 1, live: bool = False, timeout_s: float = 1800,
                  env: dict[str, str] | None = None) -> Measured:
    """One run. ``live``: start the workers, warm them up (and wait for a Stable group), measure their idle
    CPU for ``IDLE_S``, then load. ``env``: for the worker processes (``identity_worker``'s BENCH_*)."""
    settings = await settings_with_topics(bootstrap, partitions=partitions)
    await apply_topics(settings, [SINK])
    measured = items[WARMUP:] if live else items
    if not live:
        await load(settings, items)
    idle = float("nan")
    async with Workers(kind, workers, settings, workdir, env or {}) as running:
        if live:  # every worker in the group first: no rebalance once events flow
            await wait_for_group(settings, group_of(kind, settings.topics.prefix), workers, running)
            await load(settings, items[:WARMUP])
            warm: list[str] | int = WARMUP if kind in PASS_THROUGH else event_ids(items[:WARMUP])
            try:
                await finished(settings, kind, warm, running, min(timeout_s, WARMUP_S))
            except TimeoutError as exc:
                raise TimeoutError(f"warm-up stalled: {exc}; {await stalled_partitions(settings, kind)}") from exc
            since = time.time()
            await asyncio.sleep(IDLE_S)
            idle = running.cpu_between(since, time.time()) / (time.time() - since)
            await load(settings, measured)
        wanted = len(items) if kind in PASS_THROUGH else event_ids(measured)
        times = await finished(settings, kind, wanted, running, timeout_s)
    stamps = sorted(times.values() if isinstance(wanted, int) else (times[i] for i in wanted))
    if live and isinstance(wanted, int):
        stamps = stamps[WARMUP:]  # a pass-through's records of the warm-up, all out before the input was loaded
    first, last = stamps[0], stamps[-1]
    if kind == "identity" and not isinstance(wanted, int):
        # The window opens at the first graph record of these events: on a backlog, intake's work before the
        # first output is inside it (a processor that starts every saga before its first output would
        # otherwise leave that CPU out, and one that interleaves intake and graph would not).
        graph = await graph_times(settings)
        first = min([first, *(graph[i][0] for i in wanted if graph.get(i))])
    life = running.samples[-1][1] if running.samples else float("nan")
    return Measured(kind, workers, len(stamps), last - first, running.cpu_between(first, last), idle, life)


async def latency(bootstrap: str, items: list[Item], partitions: int, workdir: Path, rate: float,
                  timeout_s: float = 1800, kind: str = "identity") -> tuple[list[float], dict[str, dict[str, float]]]:
    """Event → announcement latencies (ms, sorted) of one warmed identity worker with input paced at ``rate``,
    and where they go (``identity_latency.breakdown``: intake, graph hops, announce). A pass-through ``kind``
    (the floor): event → its forwarded record, no breakdown."""
    settings = await settings_with_topics(bootstrap, partitions=partitions)
    await apply_topics(settings, [SINK])
    through = kind in PASS_THROUGH
    async with Workers(kind, 1, settings, workdir) as running:
        await wait_for_group(settings, group_of(kind, settings.topics.prefix), 1, running)
        await load(settings, items[:WARMUP])
        await finished(settings, kind, WARMUP if through else event_ids(items[:WARMUP]), running, timeout_s)
        await load_paced(settings, items[WARMUP:], rate)
        out = await finished(settings, kind, len(items) if through else event_ids(items[WARMUP:]), running,
                             timeout_s)
    sent = await in_times(settings, CONTACTS)
    paced = event_ids(items[WARMUP:])
    if through:
        out = await out_times(settings, kind, by_event=True)
        return sorted((out[i] - sent[i]) * 1000 for i in paced), {}
    parts = breakdown(paced, sent, await graph_times(settings), out)
    return sorted((out[i] - sent[i]) * 1000 for i in paced), parts


async def run(args: argparse.Namespace, bootstrap: str, workdir: Path) -> str:
    load_before, started = os.getloadavg(), datetime.now(UTC)
    items = contact_mix(args.events + WARMUP)
    runs = {kind: await measure(kind, bootstrap, items, args.partitions, workdir, timeout_s=args.timeout)
            for kind in ("aiokafka", "faust", "faust-bulk", "faust-writes", "baseline", "identity")}
    problems: list[str] = []
    one = two = lean = None
    for attempt in (1, 2) if not args.skip_scaling else ():  # a stalled run is reported, and tried once more
        try:
            one = one or await measure("identity", bootstrap, items, args.partitions, workdir, live=True,
                                       timeout_s=args.timeout)
            two = two or await measure("identity", bootstrap, items, args.partitions, workdir, workers=2,
                                       live=True, timeout_s=args.timeout)
            lean = await measure("identity", bootstrap, items, args.partitions, workdir, workers=2, live=True,
                                 timeout_s=args.timeout, env=NO_STANDBY)
            break
        except (TimeoutError, RuntimeError) as exc:  # the other figures still stand
            which = "Two-worker (no standby)" if two else "Two-worker" if one else "One-worker"
            problems.append(f"{which} live run, attempt {attempt}: {exc}")
    floor_live: list[Measured] = []
    # the floor's scaling, measured the same way: one worker, two, two without standby replicas
    for workers, env in [(1, {}), (2, {}), (2, NO_STANDBY)] if not args.skip_scaling else []:
        try:
            floor_live.append(await measure("faust-writes", bootstrap, items, args.partitions, workdir,
                                            workers=workers, live=True, timeout_s=args.timeout, env=env))
        except (TimeoutError, RuntimeError) as exc:
            problems.append(f"Floor live run ({workers} worker(s){', no standby' if env else ''}): {exc}")
            break
    if args.skip_scaling:
        problems.append("Two-worker comparison skipped (--skip-scaling).")
    # Half of the sustained rate of a warmed worker (the live one-worker run), not of the preloaded backlog,
    # which a worker drains in full batches faster than it can keep up with a steady stream.
    sustained = one.rate if one else runs["identity"].rate
    half, basis = sustained / 2, "the warmed one-worker run" if one else "the preloaded run (no live run)"
    latencies: list[float] = []
    parts: dict[str, dict[str, float]] = {}
    try:
        paced = contact_mix(WARMUP + max(int(half * args.latency_seconds), 50), seed=11)
        latencies, parts = await latency(bootstrap, paced, args.partitions, workdir, half, args.timeout)
    except (TimeoutError, RuntimeError) as exc:
        problems.append(f"Latency not measured: {exc}")
    floor_latencies: list[float] = []
    try:  # the floor's latency at the same pace, on the same input
        floor_latencies, _ = await latency(bootstrap, paced, args.partitions, workdir, half, args.timeout,
                                           kind="faust-writes")
    except (TimeoutError, RuntimeError) as exc:
        problems.append(f"Floor latency not measured: {exc}")
    try:
        memory = state_memory(args.memory_identifiers)
    except Exception as exc:  # the memory measurement is another package's; its failure must not lose the rest
        problems.append(f"Graph and profile memory not measured: state_memory failed with {exc!r}")
        memory = {"identifiers": 0, "customers": 0, "graph_bytes": float("nan"), "profile_bytes": float("nan")}
    base_memory = baseline_memory(args.memory_identifiers)
    return report(args, started, load_before, os.getloadavg(), items, runs, (one, two, lean), (half, basis),
                  latencies, parts, memory, base_memory, problems, floor_live, floor_latencies)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--memory-identifiers", type=int, default=1_000_000)
    parser.add_argument("--skip-scaling", action="store_true", help="no one- and two-worker live runs")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds one run may take")
    parser.add_argument("--bootstrap-servers", default=os.environ.get("OMNIBUS_TEST_BOOTSTRAP"))
    add_output(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> str:
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="omnibus-bench-") as tmp:
        workdir = Path(tmp)
        broker = None
        bootstrap = args.bootstrap_servers
        if not bootstrap:
            from bus.stack.kafka import KafkaBroker

            broker = KafkaBroker(workdir / "broker").start()
            bootstrap = broker.bootstrap_servers
        try:
            report = asyncio.run(run(args, bootstrap, workdir))
        finally:
            if broker is not None:
                broker.stop()
    print(write(report, args.output))
    return report


if __name__ == "__main__":
    main()

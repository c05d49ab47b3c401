"""The identity benchmark's results page: the runs, the targets of issue #9 each met or not met."""

from __future__ import annotations

import argparse
import os
import platform
from datetime import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tests.bench.identity_latency import table
from tests.bench.identity_workload import repeat_share

if TYPE_CHECKING:
    from tests.bench.identity import Measured

TARGET_RATE, TARGET_RATIO, TARGET_SCALING, TARGET_P99_MS, TARGET_BYTES = 10_000, 0.2, 0.85, 250, 400
LABELS = {"aiokafka": "bare aiokafka consume → produce loop", "faust": "bare faust pass-through agent",
          "faust-bulk": "batched faust pass-through (floor: identity's bulk intake, `EventProducer.send_batched`)",
          "faust-writes": "minimum writes of a repeat contact (floor: the batched pass-through re-keyed, plus one "
                          "changelog record of a faust table per event, identity's write order)",
          "baseline": "single-writer baseline (`processors/identity/baseline`: one decide partition, no graph topic)",
          "identity": "identity processor (partitioned graph protocol)"}


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] if values else float("nan")


def machine() -> str:
    model = "unknown cpu"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import faust

    return (f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, faust-streaming "
            f"{faust.__version__}, one local KRaft broker")


def floors(runs: dict[str, Measured]) -> list[str]:
    """The floor under the identity processor from the same run (``tests.bench.identity_floors``), and whether
    the 0.2× target sits below it (a target below its floor cannot be met on that path)."""
    floor = runs.get("faust-writes")
    if floor is None:
        return []
    bare, identity = runs["aiokafka"], runs["identity"]
    ratio = floor.rate / bare.rate
    verdict = ("the target lies **below** the floor: no processor on this path can reach it" if ratio < TARGET_RATIO
               else "the target lies **above** the floor: the floor does not block it")
    return [
        f"Floor under the identity processor (the minimum writes of a repeat contact, same run): "
        f"{1e6 / floor.per_cpu_s:,.0f} µs CPU per event, {ratio:.3f}× the bare aiokafka loop's events/s "
        f"(target {TARGET_RATIO}×: {verdict}). The identity processor costs "
        f"{floor.per_cpu_s / identity.per_cpu_s:.1f}× the floor's CPU per event; the rest is identity's own work "
        "(decode, normalise, matching, the graph protocol, encode).",
        "",
    ]


def floor_scaling(floor_live: Sequence[Measured]) -> list[str]:
    """The floor's two workers against its one, measured as the identity workers are (live, warmed up)."""
    if len(floor_live) < 2:
        return []
    one, two = floor_live[0], floor_live[1]
    ratio = two.per_cpu_s / one.per_cpu_s
    verdict = "**below**" if ratio < TARGET_SCALING else "above"
    return [
        f"The floor (minimum writes of a repeat contact, `faust-writes`) run the same way: one worker "
        f"{one.per_cpu_s:,.0f} events per CPU-second ({1e6 / one.per_cpu_s:,.0f} µs per event, idle "
        f"{100 * one.idle_cpu:.1f} % of a core), two workers {two.per_cpu_s:,.0f} ({1e6 / two.per_cpu_s:,.0f} µs, "
        f"idle {100 * two.idle_cpu / 2:.1f} % of a core each): **{ratio:.2f}×** one worker's. The {TARGET_SCALING}× "
        f"target is {verdict} this floor's own ratio.",
        *(f"Two workers without standby replicas (`table_standby_replicas=0`): {lean.per_cpu_s:,.0f} events per "
           f"CPU-second ({1e6 / lean.per_cpu_s:,.0f} µs per event), **{lean.per_cpu_s / one.per_cpu_s:.2f}×** one "
           f"worker's: the standby replicas cost the floor {1e6 / two.per_cpu_s - 1e6 / lean.per_cpu_s:,.1f} µs per "
           "event (one changelog record per event, replayed by the other worker)."
          for lean in floor_live[2:3]),
        "",
    ]


def floor_latency(latencies: Sequence[float], pace: float) -> list[str]:
    """The floor's event → forwarded record latency at the identity run's pace, on the same input."""
    if not latencies:
        return []
    ordered = sorted(latencies)
    verdict = "**below**" if percentile(ordered, 0.99) >= TARGET_P99_MS else "above"
    return [
        f"The floor (minimum writes of a repeat contact, `faust-writes`), one warmed worker, the same input paced "
        f"at the same {pace:,.0f} events/s: event → its re-keyed record p50 {percentile(ordered, 0.5):,.0f} ms, "
        f"p99 {percentile(ordered, 0.99):,.0f} ms, max {ordered[-1]:,.0f} ms. The {TARGET_P99_MS} ms target is "
        f"{verdict} this floor's p99.",
        "",
    ]


def _met(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**met**" if ok else "**not met**")


def report(args: argparse.Namespace, started: datetime, load_before: tuple[float, float, float],
           load_after: tuple[float, float, float], items: list[Any], runs: dict[str, Measured],
           live: tuple[Measured | None, Measured | None, Measured | None], pace: tuple[float, str],
           latencies: list[float],
           parts: dict[str, dict[str, float]], memory: dict[str, float], base_memory: float,
           problems: list[str], floor_live: Sequence[Measured] = (), floor_latencies: Sequence[float] = ()) -> str:
    bare, identity = runs["aiokafka"], runs["identity"]
    half, basis = pace
    one, two, lean = live
    p99 = percentile(latencies, 0.99)
    state_bytes = memory["graph_bytes"] + memory["profile_bytes"]
    scaling = two.per_cpu_s / one.per_cpu_s if one and two else None
    at_million = memory["identifiers"] >= 1_000_000
    at_size = "" if at_million else f" (at {memory['identifiers']:,} identifiers, not at 1 M: no verdict)"
    mib = 1e6 / 2**20
    lines = [
        "# Identity processor benchmark (#9)",
        "",
        f"Command: `.venv/bin/python -m tests.bench.identity --events {args.events} --partitions {args.partitions} "
        f"--latency-seconds {args.latency_seconds:g} --memory-identifiers {args.memory_identifiers}"
        f"{' --skip-scaling' if args.skip_scaling else ''}`",
        "",
        f"Date: {started:%Y-%m-%d %H:%M} UTC. Machine: {machine()}.",
        f"Load average (1/5/15 min) before: {' / '.join(f'{v:.2f}' for v in load_before)}, after: "
        f"{' / '.join(f'{v:.2f}' for v in load_after)} (the 2 cores are shared with other work).",
        "",
        f"Input: {args.events:,} contacts (InteractionRecorded, `identity_workload.contact_mix`): "
        f"{repeat_share(items):.0%} repeat an identifier combination seen before, the rest are a new person or a "
        f"known person with a new identifier; {args.partitions} partitions. Both resolvers run with "
        "`tests.processors.identity.support.settings()`. Each run is one worker process on fresh topics, input "
        "loaded before it starts; events/s from its first output record to its last (Kafka CreateTime; the "
        "identity processor's window opens at its first graph record, so the CPU its intake spends on the backlog "
        "before its first output counts), worker CPU from /proc over the same window.",
        "",
        "| run (one worker, same input, same broker) | events/s | worker CPU µs per event | × bare aiokafka loop "
        "(events/s) | × bare aiokafka loop (events per CPU-second) |",
        "|---|---|---|---|---|",
        *(f"| {LABELS[k]} | {m.rate:,.0f} | {1e6 / m.per_cpu_s:,.0f} | {m.rate / bare.rate:.3f} | "
          f"{m.per_cpu_s / bare.per_cpu_s:.3f} |" for k, m in runs.items()),
        "",
        *floors(runs),
        "Identity workers started first, warmed up in a Stable group, measured idle for a few seconds, then the "
        "input loaded (the last row: faust's standby replicas off, `table_standby_replicas=0`, to show what they "
        "cost; the processors run with faust's default of one):",
        "",
        "| identity workers | events/s | worker CPU s | events per CPU-second | × one worker | idle CPU, % of a core "
        "per worker |",
        "|---|---|---|---|---|---|",
        *(f"| {m.workers}{' (no standby replicas)' if m is lean else ''} | {m.rate:,.0f} | {m.cpu_s:.2f} | "
          f"{m.per_cpu_s:,.0f} | {m.per_cpu_s / one.per_cpu_s:.2f} | {100 * m.idle_cpu / m.workers:.1f} |"
          for m in (one, two, lean) if m and one),
        "",
        *floor_scaling(floor_live),
        f"Latency, event → its contact on `customer.contacts` (CreateTime of each), one warmed worker, input "
        f"paced at {half:,.0f} events/s (half the rate of {basis}), {len(latencies):,} events: "
        f"p50 {percentile(latencies, 0.5):,.0f} ms, p99 {p99:,.0f} ms, "
        f"max {max(latencies, default=float('nan')):,.0f} ms. "
        "Where it goes (`identity_latency`: intake = input → first graph record carrying the event's saga; graph = "
        "first → last such record; hops = such records per event; announce = last one → the contact out):",
        "",
        *table(parts),
        "",
        *floor_latency(floor_latencies, half),
        f"State memory ({memory['identifiers']:,} identifiers in {memory['customers']:,} customers, tracemalloc):",
        "",
        "| state | bytes per identifier | MiB per million identifiers |",
        "|---|---|---|",
        f"| identity graph (identifier + customer nodes) | {memory['graph_bytes']:,.0f} | "
        f"{memory['graph_bytes'] * mib:,.0f} |",
        f"| screen-pop profiles (recent contacts, products) | {memory['profile_bytes']:,.0f} | "
        f"{memory['profile_bytes'] * mib:,.0f} |",
        f"| baseline decider (the graph's typed states as objects in one process; profiles as above) | "
        f"{base_memory:,.0f} | "
        f"{base_memory * mib:,.0f} |",
        "",
        "## Targets (issue #9, on this 2-core machine)",
        "",
        "| target | measured | |",
        "|---|---|---|",
        f"| identity ≥ {TARGET_RATE:,} events/s on one worker | {identity.rate:,.0f} | "
        f"{_met(identity.rate >= TARGET_RATE)} |",
        f"| identity ≥ {TARGET_RATIO}× the bare aiokafka loop | {identity.rate / bare.rate:.3f}× | "
        f"{_met(identity.rate / bare.rate >= TARGET_RATIO)} |",
        f"| two workers: events per CPU-second ≥ {TARGET_SCALING}× one worker's | "
        f"{f'{scaling:.2f}×' if scaling is not None else '—'} | "
        f"{_met(None if scaling is None else scaling >= TARGET_SCALING)} |",
        f"| p99 event → announcement < {TARGET_P99_MS} ms at half of peak | {p99:,.0f} ms | "
        f"{_met(p99 < TARGET_P99_MS if latencies else None)} |",
        f"| graph + profile state ≤ {TARGET_BYTES} B per identifier at 1 M identifiers | {state_bytes:,.0f} B{at_size} "
        f"| {_met(state_bytes <= TARGET_BYTES if at_million else None)} |",
        "",
        f"The single-writer baseline made {runs['baseline'].rate / identity.rate:.1f}× the identity processor's "
        "events/s on one worker. Its decider is one partition: its decisions and state cannot spread over workers "
        "(only its intake and profile stages can); the partitioned protocol's can.",
        "",
    ]
    if problems:
        lines += ["## Not measured", "", *(f"- {problem}" for problem in problems), ""]
    return "\n".join(lines)

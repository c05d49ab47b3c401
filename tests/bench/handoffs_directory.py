"""The tracker's customer directory: memory per identifier, lookup cost, and following changes on ticks.

    .venv/bin/python -m tests.bench.handoffs_directory --customers 300000 --open 100000 --changes 1000 [--output FILE]

Prints the report; ``--output FILE`` also writes it to FILE (``tests.bench.output``): ``results/handoffs_directory.md``
keeps the runs, each added by hand.

In-process, no broker: a ``CustomerDirectory`` filled the way the directory feed fills it (3 identifiers
and one account per customer, half of the accounts with a tier, one subscription each), then a
``HandoffTracker`` with ``--open`` open handoffs of those customers.

1. Memory: bytes per identifier held (tracemalloc, directory only). Baseline (same run): a plain dict of
   the same keys to customer ids, the least any replica of ``customer.identifiers.v1`` holds.
2. Lookup: ``view()`` (customer, tier, addresses) per handoff. Baseline: a bare ``dict.get`` per handoff.
3. Following: ``--changes`` customers gain a premium product, then one tick per partition re-times what
   those changes concern. Baseline: the same tick when the change list is lost (every open handoff
   re-checked, what a restart or a lagging partition pays).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import time
import tracemalloc
from datetime import UTC, datetime

from bus.serde import Event
from bus.clock import ManualClock, to_micros
from processors.handoffs.config import HandoffPolicy, SlaPolicy, TierPolicy
from processors.handoffs.directory import CustomerDirectory
from processors.handoffs.tier_facts import TierFact
from processors.handoffs.outputs import Emitter
from processors.handoffs.tracker import Destinations, HandoffTracker
from tests.bench.output import add_output, write
from tests.processors.handoffs.factories import SYSTEM, T0, FakeDeadLetters, created, record

POLICY = HandoffPolicy(sla=(SlaPolicy(service_tiers=("premium",), resolve_within_hours=4),),
                       tiers=TierPolicy(products={"CARE-PLUS": "premium"}))


class NullSink:
    async def publish_many(self, items: object) -> None:
        return None


def fill(directory: CustomerDirectory, customers: int) -> None:
    for n in range(customers):
        customer = f"cus_{n:08d}"
        for key in (f"EMAIL:c{n}@example.org", f"PHONE:+3361{n:08d}", f"ACCOUNT:A{n}"):
            directory.assign(key, customer)
        directory.record(TierFact(f"ACCOUNT:A{n}", f"A{n}", True, 1, f"e{n}", "omnibus.business.AccountOpened",
                                  tier="standard" if n % 2 else None))
        directory.record(TierFact(f"SUBSCRIPTION:s{n}", f"A{n}", True, 1, f"s{n}",
                                  "omnibus.business.ProductSubscribed", product_code="TV"))


def handoff(n: int, customers: int) -> Event:
    return created(f"h{n:07d}", T0, tier=None, identifiers=[{"type": "EMAIL", "value": f"c{n % customers}@example.org"}])


async def drain(tracker: HandoffTracker, partitions: int, now: int) -> list[float]:
    """Tick rounds (every partition once) until no customer check is left; the seconds of each round."""
    rounds: list[float] = []
    while not rounds or any(tracker._customer_checks.values()) or any(tracker._customer_backlog.values()):  # noqa: SLF001
        started = time.perf_counter()
        for p in range(partitions):
            await tracker.follow_customers(p, now)
        rounds.append(time.perf_counter() - started)
    return rounds


async def run(args: argparse.Namespace) -> str:
    gc.collect()
    tracemalloc.start()
    directory = CustomerDirectory(ready=True)
    started = time.perf_counter()
    fill(directory, args.customers)
    fill_s = time.perf_counter() - started
    directory_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    identifiers = 3 * args.customers
    gc.collect()
    tracemalloc.start()
    plain = {f"EMAIL:c{n}@example.org": f"cus_{n:08d}" for n in range(args.customers)}
    plain |= {f"PHONE:+3361{n:08d}": f"cus_{n:08d}" for n in range(args.customers)}
    plain |= {f"ACCOUNT:A{n}": f"cus_{n:08d}" for n in range(args.customers)}
    plain_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()

    probes = [({"type": "EMAIL", "value": f"c{n % args.customers}@example.org"},) for n in range(args.open)]
    started = time.perf_counter()
    for identifiers_of in probes:
        directory.view("", identifiers_of, POLICY)  # no placement read: the identifier fallback
    view_s = time.perf_counter() - started
    started = time.perf_counter()
    for (identifier,) in probes:
        plain.get(f"{identifier['type']}:{identifier['value']}")
    get_s = time.perf_counter() - started

    store: dict = {}
    tracker = HandoffTracker(POLICY, Emitter(SYSTEM, ManualClock(T0)), store, NullSink(), FakeDeadLetters(),
                             Destinations("events", "notifications"), directory=directory)
    for n in range(args.open):
        await tracker.handle(handoff(n, args.customers), record(partition=n % args.partitions))
    now = to_micros(T0)
    await drain(tracker, args.partitions, now)  # first ticks: indexes built, every handoff checked once
    for n in range(args.changes):
        directory.record(TierFact(f"SUBSCRIPTION:p{n}", f"A{n}", True, 2, f"p{n}", "omnibus.business.ProductSubscribed",
                                  product_code="CARE-PLUS"))
    started = time.perf_counter()
    retimed = sum([await tracker.follow_customers(p, now) for p in range(args.partitions)])
    follow_s = time.perf_counter() - started
    tracker._directory_seen.clear()  # noqa: SLF001 - the change list lost: every open handoff re-checked
    rounds = await drain(tracker, args.partitions, now)
    full_s, rechecked = sum(rounds), len(rounds)

    return write(report(args, fill_s, directory_bytes, plain_bytes, identifiers, view_s, get_s, retimed, follow_s,
                        rechecked, full_s, tracker.batch_size), args.output)


def report(args, fill_s, directory_bytes, plain_bytes, identifiers, view_s, get_s, retimed, follow_s,  # type: ignore[no-untyped-def]
           rechecked, full_s, tracker_batch) -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"""# Handoff customer directory benchmark

Run: `.venv/bin/python -m tests.bench.handoffs_directory --customers {args.customers} --open {args.open} \
--changes {args.changes} --partitions {args.partitions}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.

Machine: {os.cpu_count()} cores, Python {platform.python_version()}, load average at the start {args.load}
(at the end {load}; other work shares the CPUs). One process, no broker.

| measure | value | baseline in the same run | ratio |
|---|---:|---:|---:|
| directory memory per identifier ({identifiers:,} identifiers, {args.customers:,} accounts and subscriptions) \
| {directory_bytes / identifiers:,.0f} B | plain dict key -> customer: {plain_bytes / identifiers:,.0f} B \
| {directory_bytes / max(plain_bytes, 1):.1f}x |
| fill rate (assignments and facts) | {5 * args.customers / fill_s:,.0f} records/s | - | - |
| lookup per handoff (customer, tier, addresses) | {view_s / args.open * 1e6:.2f} µs | dict.get: \
{get_s / args.open * 1e6:.2f} µs | {view_s / max(get_s, 1e-9):.1f}x |
| tick after {args.changes:,} customers upgraded ({retimed:,} handoffs re-timed of {args.open:,} open) \
| {follow_s * 1000:,.1f} ms | change list lost, all re-checked: {full_s * 1000:,.1f} ms over {rechecked} tick rounds \
of at most {tracker_batch} handoffs per partition | {full_s / max(follow_s, 1e-9):.1f}x |

A tick costs in proportion to what changed, not to how many handoffs are open; the replica costs memory
in proportion to the identifiers identity resolution has published (every worker holds all of them).
"""


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=300_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=1_000)
    parser.add_argument("--partitions", type=int, default=12)
    add_output(parser)
    args = parser.parse_args(argv)
    args.load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return args


if __name__ == "__main__":
    print(asyncio.run(run(parse())))

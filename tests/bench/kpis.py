"""KPI ledger: events per second through the idempotent, late-capable counting (entities, contributions,
per-partition counters, partials summed into aggregates), next to a naive counter in the same run.

The naive counter adds one to ``(hour, channel, site, measure)`` per event: no dedupe, no call revisions,
no repeat contact, no late events. The ratio is what one way of counting that survives redelivery and
late events costs per event. Workload: a synthetic day of contacts, calls, customer contacts and handoffs.

    .venv/bin/python -m tests.bench.kpis --events 20000 [--output FILE]

Prints the report; ``--output FILE`` also writes it to FILE (``tests.bench.output``): ``results/kpis.md`` keeps
the runs, each added by hand.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from processors.kpis.config import KpisSettings
from processors.kpis.ledger import KpiLedger
from processors.kpis.rollup import Rollup
from processors.kpis.rules import occurred_us
from tests.bench.output import add_output, write
from tests.processors.kpis.factories import T0, call, handoff, interaction

PARTITIONS = 12


def workload(events: int, seed: int = 7) -> list[tuple[object, str, int, str | None]]:
    """(event, source, partition, key): a day of traffic over 12 partitions, 1 in 20 events redelivered."""
    rng = random.Random(seed)
    found: list[tuple[object, str, int, str | None]] = []
    for n in range(events):
        at = T0 + timedelta(seconds=rng.randrange(86_400))
        partition, kind = rng.randrange(PARTITIONS), rng.random()
        if kind < 0.35:
            item = (interaction(at, event_id=f"i{n}"), "contacts", partition, None)
        elif kind < 0.55:
            item = (call(at, rng.choice([5, 30, None]), contact_id=f"c{n}", event_id=f"c{n}"), "contacts", partition, None)
        elif kind < 0.9:
            customer = f"cus_{rng.randrange(events // 4)}"
            item = (interaction(at, event_id=f"k{n}", outcome=rng.choice(["RESOLVED", "UNKNOWN", "HANDED_OFF"])),
                    "customer-contacts", hash(customer) % PARTITIONS, customer)
        else:
            item = (handoff("HandoffCreated", f"h{n}", at, event_id=f"h{n}"), "handoffs", partition, None)
        found.append(item)
        if rng.random() < 0.05:
            found.append(item)  # an at-least-once redelivery
    return found


def ledger_rate(items: list) -> float:
    ledger = KpiLedger(KpisSettings(), {})
    rollup = Rollup({}, "bench", lambda: datetime.now(UTC))
    started = time.perf_counter()
    for event, source, partition, key in items:
        change = ledger.apply(event, source, partition, key)  # type: ignore[arg-type]
        for window_key, partial in change.partials():
            rolled = rollup.receive(window_key, partial)
            if rolled is not None:
                rollup.save(window_key, rolled)
        ledger.commit(change)
    return len(items) / (time.perf_counter() - started)


def naive_rate(items: list) -> float:
    counts: Counter[tuple[int, str, str, str]] = Counter()
    started = time.perf_counter()
    for event, _, _, _ in items:
        envelope = event.value["envelope"]  # type: ignore[attr-defined]
        hour = occurred_us(event) // 3_600_000_000  # type: ignore[arg-type]
        counts[(hour, envelope["channel"], envelope.get("site") or "", event.schema)] += 1  # type: ignore[attr-defined]
    return len(items) / (time.perf_counter() - started)


def report(events: int, ledger: float, naive: float) -> str:
    load = os.getloadavg()[0]
    return "\n".join([
        "# KPI ledger benchmark", "",
        f"Run: `.venv/bin/python -m tests.bench.kpis --events {events}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.", "",
        (f"Machine: {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores shared with other "
         f"work (load average {load:.1f} at the time); in memory (dict stores), no Kafka."), "",
        "| path | events/s |", "|---|---:|",
        f"| baseline: naive counter (hour, channel, site, schema) | {naive:,.0f} |",
        f"| KpiLedger + Rollup (dedupe, revisions, repeat/FCR, partials summed) | {ledger:,.0f} |", "",
        f"Ratio (ledger / baseline): {ledger / naive:.3f}x.", "",
    ])


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    add_output(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> str:
    args = parse(argv)
    items = workload(args.events)
    text = write(report(args.events, ledger_rate(items), naive_rate(items)), args.output)
    print(text)
    return text


if __name__ == "__main__":
    main()

"""Adapter dedupe store: remembering a batch of source ids in one SQLite transaction, next to one
commit per id (what ``DedupeStore.remember`` did before), measured in the same run on the same disk.

    .venv/bin/python -m tests.bench.dedupe --batches 200 --batch-size 100 [--output FILE]

Prints the report; ``--output FILE`` also writes it to FILE (``tests.bench.output``): ``results/dedupe.md`` keeps
the runs, each added by hand.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from adapters.base.dedupe import DedupeStore
from tests.bench.output import add_output, write



def per_batch_ms(store: DedupeStore, batches: int, size: int, *, one_commit_per_id: bool) -> list[float]:
    timings = []
    for batch in range(batches):
        ids = [f"source:{batch}:{i}" for i in range(size)]
        started = time.perf_counter()
        if one_commit_per_id:
            for dedupe_id in ids:  # autocommit: every statement is its own transaction
                store._db.execute("INSERT OR REPLACE INTO seen (id, at) VALUES (?, ?)", (dedupe_id, time.time()))  # noqa: SLF001
        else:
            store.remember(ids)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def run(batches: int, size: int) -> dict[str, list[float]]:
    results = {}
    for label, per_id in (("baseline: one commit per id", True), ("DedupeStore.remember: one commit per batch", False)):
        with tempfile.TemporaryDirectory() as folder:
            store = DedupeStore(Path(folder) / "dedupe.sqlite", 3600)
            results[label] = per_batch_ms(store, batches, size, one_commit_per_id=per_id)
            assert len(store.seen(f"source:0:{i}" for i in range(size))) == size
            store.close()
    return results


def report(results: dict[str, list[float]], batches: int, size: int) -> str:
    lines = [
        "# Adapter dedupe store benchmark", "",
        f"Run: `.venv/bin/python -m tests.bench.dedupe --batches {batches} --batch-size {size}` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.", "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, SQLite file in the temp dir, WAL.", "",
        "| path | mean ms per batch | p99 ms per batch | ids/s |", "|---|---:|---:|---:|",
    ]
    means = {}
    for label, timings in results.items():
        mean = statistics.fmean(timings)
        means[label] = mean
        p99 = sorted(timings)[int(len(timings) * 0.99) - 1]
        lines.append(f"| {label} | {mean:.2f} | {p99:.2f} | {size / mean * 1000:,.0f} |")
    baseline, batched = means.values()
    lines += ["", f"Ratio (baseline / batched): {baseline / batched:.1f}x faster per batch."]
    return "\n".join(lines) + "\n"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=100)
    add_output(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> str:
    args = parse(argv)
    text = write(report(run(args.batches, args.batch_size), args.batches, args.batch_size), args.output)
    print(text)
    return text


if __name__ == "__main__":
    main()

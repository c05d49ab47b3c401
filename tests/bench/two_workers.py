"""Two identity workers against one: events per CPU-second, in alternating paired runs of source trees (#9).

    PYTHONPATH=$PWD .venv/bin/python -m tests.bench.two_workers --events 3000 --pairs 3 \\
        --trees base@/tmp/base-tree this@. [--no-standby] [--output tests/bench/results/two_workers.md]

Each pair runs, per tree (the order alternates from pair to pair), the identity processor live with one
worker and then with two (``tests.bench.identity.measure``: workers started and warmed up, a Stable group,
idle CPU measured, then the input loaded; CPU of all workers from /proc over the first-to-last output
window) and reports two-worker events per CPU-second over one worker's. A tree is a checkout of the commit
to measure (``git archive``); its workers run its code. ``--no-standby`` adds a two-worker run with faust's
standby replicas off (``table_standby_replicas=0``) per tree: what the standbys cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from tests.bench.identity import NO_STANDBY, WARMUP, Measured, measure
from tests.bench.identity_workload import contact_mix
from tests.bench.output import add_output, write

RESULTS = Path(__file__).parent / "results" / "two_workers.md"


async def pair(label: str, tree: str, args: argparse.Namespace, bootstrap: str, workdir: Path,
               items: list) -> list[str]:
    here = os.getcwd()
    os.chdir(tree)  # tests.bench.identity_runs.Workers runs the tree of the working directory
    try:
        runs: list[tuple[str, Measured]] = []
        for name, workers, env in [("1 worker", 1, {}), ("2 workers", 2, {})] + (
                [("2 workers, no standby", 2, NO_STANDBY)] if args.no_standby else []):
            if args.profile:  # each worker's cProfile (identity_worker's BENCH_IDENTITY_PROFILE), per run
                profiles = args.profile / f"{label}-{name}".replace(" ", "_").replace(",", "")
                profiles.mkdir(parents=True, exist_ok=True)
                env = {**env, "BENCH_IDENTITY_PROFILE": str(profiles.resolve())}
            runs.append((name, await measure("identity", bootstrap, items, args.partitions, workdir, workers=workers,
                                             live=True, timeout_s=args.timeout, env=env)))
    finally:
        os.chdir(here)
    one = runs[0][1].per_cpu_s
    rows = []
    for name, run in runs:
        rows.append(f"| {label} | {name} | {run.rate:,.0f} | {run.cpu_s:.2f} | {run.per_cpu_s:,.0f} | "
                    f"{run.per_cpu_s / one:.2f} | {run.idle_cpu:.3f} | {os.getloadavg()[0]:.1f} |")
        print(rows[-1], flush=True)
    return rows


async def run(args: argparse.Namespace, bootstrap: str, workdir: Path) -> str:
    items = contact_mix(args.events + WARMUP)
    trees = [spec.partition("@")[::2] for spec in args.trees]
    before, started = os.getloadavg(), datetime.now(UTC)
    rows: list[str] = []
    for index in range(args.pairs):
        for label, tree in trees if index % 2 == 0 else trees[::-1]:
            rows += await pair(f"{label} (pair {index + 1})", tree, args, bootstrap, workdir, items)
    after = os.getloadavg()
    return "\n".join([
        "# Two identity workers against one (#9): events per CPU-second",
        "",
        f"Command: `PYTHONPATH=$PWD .venv/bin/python -m tests.bench.two_workers --events {args.events} "
        f"--partitions {args.partitions} --pairs {args.pairs} --trees {' '.join(args.trees)}"
        f"{' --no-standby' if args.no_standby else ''}`. Machine: {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.machine()}; {started:%Y-%m-%d %H:%M} UTC; load average before "
        f"{before[0]:.1f} / {before[1]:.1f} / {before[2]:.1f}, after {after[0]:.1f} / {after[1]:.1f} / {after[2]:.1f} "
        "(CPUs shared with other work: compare rows of one pair).",
        "",
        f"{args.events:,} contacts of `contact_mix` after {WARMUP} warm-up events, {args.partitions} partitions, "
        "loaded into warmed-up live workers; CPU of all worker processes over the first-to-last output window.",
        "",
        "| tree | run | events/s | worker CPU s | events per CPU-s | × one worker | idle CPU (cores) | load |",
        "|---|---|---|---|---|---|---|---|",
        *rows, ""])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--trees", nargs="+", default=["this@."], help="LABEL@DIR source trees to compare")
    parser.add_argument("--no-standby", action="store_true")
    parser.add_argument("--timeout", type=float, default=900.0)
    add_output(parser)
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR",
                        help="cProfile every worker into DIR/<tree>-<run>/ (CPU figures then include the profiler)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="omnibus-two-workers-") as tmp:
        from bus.stack.kafka import KafkaBroker

        broker = KafkaBroker(Path(tmp) / "broker").start()
        try:
            page = asyncio.run(run(args, broker.bootstrap_servers, Path(tmp)))
        finally:
            broker.stop()
    print(write(page, args.output))


if __name__ == "__main__":
    main()

"""A narrow run of the identity benchmark (#9 build 3): CPU per event of the identity processor beside the
bare aiokafka loop and the bare faust pass-through of the same run, one worker, preloaded input.

    PYTHONPATH=$PWD .venv/bin/python -m tests.bench.identity_speed --events 5000 --partitions 4 \\
        [--kinds aiokafka faust faust-bulk faust-writes identity identity:bulk_intake=false identity@/tmp/base-tree] [--repeat N]
    [--profile DIR] [--workers 2]

The full harness is ``tests.bench.identity`` (same workers, same measurement, ``measure``); this one skips
the baseline, the scaling, latency and memory runs so a change to the hot path can be measured in minutes.
A kind ``identity@DIR`` runs the workers from the source tree DIR (a checkout of another commit), so two
commits are compared in one run; ``identity:NAME=JSON,...`` overrides identity settings.
``--profile DIR``: the identity worker runs under cProfile and writes ``DIR/identity-<pid>.prof``.
``--workers 2``: the ``--live-kinds`` (default identity; the floors too: ``faust-writes``) also run live with
one and with two workers (events per CPU-s; ``--no-standby``: two workers without faust's standby replicas
too; ``--repeat`` times each).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from pathlib import Path

from tests.bench.identity import NO_STANDBY, WARMUP, measure
from tests.bench.identity_workload import contact_mix


async def run(args: argparse.Namespace, bootstrap: str, workdir: Path) -> None:
    items = contact_mix(args.events + WARMUP)
    base = None
    print(f"load average before: {os.getloadavg()}", flush=True)
    here = os.getcwd()
    for label in args.kinds:
        spec, _, tree = label.partition("@")  # identity@/tmp/base: the workers run that source tree
        kind, _, overrides = spec.partition(":")  # identity:bulk_intake=false,fast_path=false
        os.chdir(tree or here)  # tests.bench.identity_runs.Workers runs the tree of the working directory
        settings = {name: json.loads(value) for name, value in
                    (item.split("=", 1) for item in overrides.split(",") if item)}
        os.environ["BENCH_IDENTITY"] = json.dumps(settings)
        for _ in range(args.repeat):
            measured = await measure(kind, bootstrap, items, args.partitions, workdir, timeout_s=args.timeout)
            os.chdir(here)
            base = measured.rate if kind == "aiokafka" else base
            ratio = f"{measured.rate / base:.3f}x aiokafka" if base else ""
            print(f"{label:30} {measured.events:6} events {measured.rate:8.0f} events/s "
                  f"{measured.cpu_s / measured.events * 1e6:6.0f} us CPU/event {ratio} "
                  f"(worker life {measured.life_cpu_s:.2f} CPU-s)", flush=True)
            for log in sorted(workdir.glob("identity-*.log")):  # BENCH_IDENTITY_COUNTERS=1: the worker's counters
                counters = [line for line in log.read_text(errors="replace").splitlines() if line.startswith("COUNTER")]
                print("".join(f"    {line}\n" for line in counters), end="", flush=True)
                log.unlink()
    if args.workers > 1:
        for kind in args.live_kinds:
            runs = [(1, {}), (args.workers, {})] + ([(args.workers, NO_STANDBY)] if args.no_standby else [])
            for _ in range(args.repeat):
                one = None
                for workers, env in runs:
                    measured = await measure(kind, bootstrap, items, args.partitions, workdir, workers=workers,
                                             live=True, timeout_s=args.timeout, env=env)
                    one = one or measured
                    print(f"{kind} live, {workers} worker(s){', no standby' if env else ''}: "
                          f"{measured.rate:8.0f} events/s {measured.per_cpu_s:8.0f} events per CPU-s "
                          f"({1e6 / measured.per_cpu_s:.1f} us) {measured.per_cpu_s / one.per_cpu_s:.2f}x one worker",
                          flush=True)
    print(f"load average after: {os.getloadavg()}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--kinds", nargs="+", default=["aiokafka", "faust", "faust-bulk", "faust-writes", "identity"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--live-kinds", nargs="+", default=["identity"],
                        help="kinds run live with one and --workers workers (e.g. identity faust-writes)")
    parser.add_argument("--no-standby", action="store_true",
                        help="with --workers: also --workers workers without faust's standby replicas")
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        os.environ["BENCH_IDENTITY_PROFILE"] = str(args.profile.resolve())
    with tempfile.TemporaryDirectory(prefix="omnibus-speed-") as tmp:
        from bus.stack.kafka import KafkaBroker

        broker = KafkaBroker(Path(tmp) / "broker").start()
        try:
            asyncio.run(run(args, broker.bootstrap_servers, Path(tmp)))
        finally:
            broker.stop()


if __name__ == "__main__":
    main()

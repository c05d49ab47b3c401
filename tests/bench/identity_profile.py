"""Where the identity processor's CPU goes, part by part, in µs per event (#9 build 3), in one run beside the
bare aiokafka loop and the floor (the minimum writes of a repeat contact, ``identity_floors``).

    PYTHONPATH=$PWD .venv/bin/python -m tests.bench.identity_profile --events 20000 --partitions 4

One local broker, the input of ``tests.bench.identity`` (``identity_workload.contact_mix``), each run a worker on
fresh topics with the input loaded before it starts (``identity.measure``): ``aiokafka``, ``faust-writes``,
``identity`` (its CPU per event, unprofiled), then ``identity`` again with py-spy attached from the moment its app
started to its exit (``identity_worker``'s ``BENCH_IDENTITY_SPY``: 250 samples a second, non-blocking, so the
worker is never stopped) and its counters on (``BENCH_IDENTITY_COUNTERS``: records and bytes handed to Kafka per
topic, the garbage collector's CPU). Each sample goes to the first of ``PARTS`` one of whose patterns is in its
stack; a part's µs per event is its share of the busy samples (idle, start-up and socket writes left out) times the
unprofiled run's CPU per event. py-spy counts a sample of a thread that runs Python, whether or not the CPU was its at
that moment: on a loaded machine a socket write that wakes the broker read as 10-12 % of the samples while the
worker's kernel time (every write and poll) was 3 % of its CPU, hence socket writes are counted apart.
py-spy is a test dependency (``pip install py-spy``). Results are prepended to ``results/identity_profile.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.bench.identity import WARMUP, Measured, measure
from tests.bench.identity_report import machine
from tests.bench.identity_workload import contact_mix

RESULTS = Path(__file__).parent / "results" / "identity_profile.md"
IDLE, STARTUP = "idle (the event loop waiting in select)", "start-up (imports, building the app)"
# A sample whose leaf is a socket write to the broker is mostly the worker descheduled after waking the broker (at
# most the worker's kernel time, a few % of its CPU, is such writes): counted apart, like idle, not as CPU.
SOCKET = "socket writes to the broker (kernel: see the kernel share below)"
LEFT_OUT = (IDLE, STARTUP, SOCKET)
# (part, patterns): a pattern is a substring of the stack ("a;b;c", root first), or "leaf:" + the leaf frame's start.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (STARTUP, ("_find_and_load", "IdentityProcessor.__init__", "Lark.", "_make_ssl_context", "create_app")),
    (IDLE, ("leaf:EpollSelector.select", "leaf:_wait_for_data", "leaf:Service.sleep")),
    (SOCKET, ("leaf:_SelectorSocketTransport.write",)),
    ("Avro decode (inputs, followed rows)", ("RecordDecoder.decode", "SingleObjectDeserializer", "read_body")),
    ("Avro encode (outputs)", ("encode_body", "SingleObjectSerializer", "AvroSerializer")),
    ("normalise identifiers", ("IdentifierNormalizer.normalize",)),
    ("profile sections applied (recent contacts, products...)", ("ProfileBook.apply", "ProfileBook.merge")),
    ("profile encode / decode (msgpack, deflate)", ("encode_profile", "decode_profile", "decode_any_profile")),
    ("node state encode / decode / copy", ("encode_state", "decode_any_state", "decode_state", "thaw (")),
    ("graph messages encode / decode and bundling", ("decode_record", "encode_message", "encode_record",
                                                     "bundle (")),
    ("graph protocol handlers (the rest of IdentityGraph.handle)", ("IdentityGraph.handle",)),
    ("table writes and changelog records (put, drain, hand over)", ("FaustTables._put", "drain_changelog",
                                                                   "hand_over", "Overlay.commit")),
    ("intake: the saga started (the rest of Intake.start)", ("Intake.start",)),
    ("output records built (announcer)", ("Announcer.outgoing",)),
    ("Kafka produce: batches, lz4, requests, socket writes", (
        "aiokafka/producer", "AIOKafkaClient.send", "publish_many", "PartitionBatches", "lz4",
        "AIOKafkaConnection", "_SelectorSocketTransport.write", "bus/producer.py")),
    ("faust's consumer thread (fetch)", ("WorkerThread.run", "Fetcher", "aiokafka/consumer")),
    ("assignment repair and view feed (followed topics)", ("assignments_repair", "TopicFollower", "view_feed")),
    ("metrics", ("metrics.py", "prometheus_client")),
    ("fast-path view (learn, claim)", ("AssignmentView",)),
    ("fence and assignment checks", ("fencing.py", "group_lease", "ThreadDelegateConsumer.assignment")),
    ("bulk intake loop (take, acknowledge, settle)", ("consume_bulk", "bulk_intake", "state_writes")),
    ("faust, mode and asyncio machinery (the rest)", ("",)),
)
_COUNTER = re.compile(r"COUNTER written (\S+) records (\d+) bytes (\d+)")
_GC = re.compile(r"COUNTER gc generation (\d+) collections (\d+) cpu_s ([\d.]+)")
_CPU = re.compile(r"COUNTER cpu user_s ([\d.]+) system_s ([\d.]+)")


def part_of(stack: list[str]) -> str:
    """The part a sample's stack (frames root first, as py-spy's raw format gives them) belongs to."""
    joined = ";".join(stack)
    for name, patterns in PARTS:
        for pattern in patterns:
            if pattern.startswith("leaf:") and stack and stack[-1].startswith(pattern[5:]):
                return name
            if not pattern.startswith("leaf:") and pattern in joined:
                return name
    return PARTS[-1][0]


def samples_by_part(raw: str) -> Counter[str]:
    """py-spy's raw output (``frame;frame;... count`` per line) counted per part."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if stack and count.isdigit():
            counts[part_of(stack.split(";"))] += int(count)
    return counts


@dataclass
class Part:
    name: str
    samples: int
    share: float  # of the busy samples
    us_per_event: float


def breakdown(counts: Counter[str], us_per_event: float) -> list[Part]:
    """Busy parts (not ``LEFT_OUT``), in ``PARTS`` order, scaled to ``us_per_event``."""
    busy = sum(count for name, count in counts.items() if name not in LEFT_OUT)
    return [Part(name, counts[name], counts[name] / busy if busy else 0.0,
                 us_per_event * counts[name] / busy if busy else 0.0)
            for name, _ in PARTS if name not in LEFT_OUT]


def written(log: str) -> dict[str, tuple[int, int]]:
    """``{topic: (records, bytes)}`` from a worker log's counters (``BENCH_IDENTITY_COUNTERS``)."""
    return {match[1]: (int(match[2]), int(match[3])) for match in _COUNTER.finditer(log)}


def collections(log: str) -> dict[int, tuple[int, float]]:
    """``{generation: (collections, CPU seconds)}`` of the garbage collector, from a worker log's counters."""
    return {int(match[1]): (int(match[2]), float(match[3])) for match in _GC.finditer(log)}


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed: pip install py-spy (a test dependency of this bench)")
    return found


def _per_event(measured: Measured) -> float:
    return measured.cpu_s / measured.events * 1e6


def report(args: argparse.Namespace, runs: dict[str, Measured], parts: list[Part], counts: Counter[str],
           log: str, events: int, loads: tuple[tuple[float, ...], tuple[float, ...]]) -> str:
    base = runs["aiokafka"]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit or 'unknown'}", "",
        f"Command: `PYTHONPATH=$PWD .venv/bin/python -m tests.bench.identity_profile --events {args.events} "
        f"--partitions {args.partitions}`", "",
        f"Machine: {machine()}.",
        "Load average (1/5/15 min) before: {:.2f} / {:.2f} / {:.2f}, after: {:.2f} / {:.2f} / {:.2f} (the 2 cores "
        "are shared with other work).".format(*loads[0], *loads[1]), "",
        "| run (one worker, same input, preloaded) | events/s | worker CPU µs per event | × bare aiokafka loop "
        "(events/s) | × bare aiokafka loop (events per CPU-second) |",
        "|---|---|---|---|---|",
    ]
    for kind, measured in runs.items():
        lines.append(f"| {kind} | {measured.rate:,.0f} | {_per_event(measured):.0f} | {measured.rate / base.rate:.3f} "
                     f"| {measured.per_cpu_s / base.per_cpu_s:.3f} |")
    identity = runs["identity"]
    busy = sum(part.samples for part in parts)
    lines += [
        "",
        f"Parts of the identity run's {_per_event(identity):.0f} µs per event (py-spy on a second identity run of the "
        f"same input: {busy:,} busy samples; {counts[IDLE]:,} idle, {counts[STARTUP]:,} start-up and "
        f"{counts[SOCKET]:,} socket-write samples left out; the parts are ordered as the rules that sort them, first "
        "match wins):", "",
        "| part | samples | share | µs per event |", "|---|---|---|---|",
    ]
    lines += [f"| {part.name} | {part.samples:,} | {part.share:.1%} | {part.us_per_event:.1f} |" for part in parts]
    topics = written(log)
    if topics:
        lines += ["", f"Written by the identity worker, per input event ({events:,} events, warm-up included):", "",
                  "| topic | records per event | bytes per event | bytes per record |", "|---|---|---|---|"]
        for topic, (records, size) in sorted(topics.items()):
            name = topic.split(".", 1)[1] if "." in topic else topic
            lines.append(f"| {name} | {records / events:.2f} | {size / events:.0f} | {size / max(records, 1):.0f} |")
        records, size = sum(r for r, _ in topics.values()), sum(s for _, s in topics.values())
        lines.append(f"| all | {records / events:.2f} | {size / events:.0f} | {size / max(records, 1):.0f} |")
    gc_runs = collections(log)
    if gc_runs:
        spent = sum(seconds for _, seconds in gc_runs.values())
        lines += ["", "Garbage collector, profiled run, worker life: " + ", ".join(
            f"generation {generation}: {count} collections, {seconds:.2f} CPU-s"
            for generation, (count, seconds) in sorted(gc_runs.items()))
            + f"; {spent / events * 1e6:.1f} µs per event in all."]
    cpu = _CPU.search(log)
    if cpu:
        user, system = float(cpu[1]), float(cpu[2])
        lines += ["", f"CPU of the profiled worker's life: {user:.2f} s user, {system:.2f} s kernel "
                      f"({system / (user + system):.0%} kernel: socket writes and reads, the consumer thread's polls)."]
    return "\n".join(lines) + "\n"


async def run(args: argparse.Namespace, bootstrap: str, workdir: Path) -> str:
    items = contact_mix(args.events + WARMUP)
    before = os.getloadavg()
    runs = {kind: await measure(kind, bootstrap, items, args.partitions, workdir, timeout_s=args.timeout)
            for kind in ("aiokafka", "faust-writes", "identity")}
    for log in workdir.glob("identity-*.log"):
        log.unlink()
    spy = workdir / "identity.spy"
    await measure("identity", bootstrap, items, args.partitions, workdir, timeout_s=args.timeout,
                  env={"BENCH_IDENTITY_SPY": f"{py_spy()} {spy}", "BENCH_IDENTITY_COUNTERS": "1"})
    log = "".join(path.read_text(errors="replace") for path in workdir.glob("identity-*.log"))
    counts = samples_by_part(spy.read_text() if spy.exists() else "")
    if not counts:
        raise SystemExit(f"py-spy recorded nothing; the worker's log:\n{log[-2000:]}")
    parts = breakdown(counts, _per_event(runs["identity"]))
    if args.samples is not None:
        args.samples.write_text(spy.read_text())
    return report(args, runs, parts, counts, log, len(items), (before, os.getloadavg()))


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds one run may take")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--samples", type=Path, default=None, help="keep py-spy's raw samples in this file")
    args = parser.parse_args(argv)
    py_spy()
    with tempfile.TemporaryDirectory(prefix="omnibus-profile-") as tmp:
        from bus.stack.kafka import KafkaBroker

        broker = KafkaBroker(Path(tmp) / "broker").start()
        try:
            section = asyncio.run(run(args, broker.bootstrap_servers, Path(tmp)))
        finally:
            broker.stop()
    old = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    title = "# Identity processor profile (#9)\n\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(title + section + ("\n" + old.removeprefix(title) if old else ""), encoding="utf-8")
    print(section)
    return section


if __name__ == "__main__":
    main()

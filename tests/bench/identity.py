"""Benchmark: identity processor events/s next to a bare faust pass-through agent, and state memory.

    .venv/bin/python -m tests.bench.identity --events 20000 --memory-identifiers 200000

Both throughput runs consume the same pre-loaded input (half IdentifiersObserved, half
InteractionRecorded; 1-3 identifiers of one person per event) with one worker on the same broker,
timed from the first record consumed to the last one done. The baseline forwards every record's
bytes to another topic with faust's own producer: the cost of faust + Kafka alone. Memory: the graph
and profile state of ``--memory-identifiers`` identifiers, built by the same handlers in process and
measured with tracemalloc in the form faust's memory store holds it (bytes keys, JSON-decoded values).
Without ``--bootstrap-servers`` a throw-away local broker is started (``bus.stack``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
import tracemalloc
from pathlib import Path

from bus.app import create_app
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topic_admin import apply_topics
from bus.topics import CONTACT_EVENTS, IDENTIFIERS_OBSERVED, TopicSpec
from processors.identity import metrics
from processors.identity.agent import IdentityProcessor
from tests.bench.identity_workload import events as workload
from tests.processors.identity.support import Harness, interaction, settings as identity_settings
from tests.support.settings import settings_with_topics

RESULTS = Path(__file__).parent / "results" / "identity.md"
SINK = TopicSpec("bench.sink.v1", "Where the pass-through baseline forwards records.", key="as consumed")


async def _load(settings, items) -> None:  # type: ignore[no-untyped-def]
    serializer, _ = build_serde(settings.registry)
    async with EventProducer(settings, serializer) as producer:
        for start in range(0, len(items), 2000):
            await producer.publish_many([Outgoing(f"{settings.topics.prefix}.{suffix}", key, event)
                                         for suffix, key, event in items[start:start + 2000]])


async def passthrough(bootstrap: str, items, partitions: int, datadir: Path) -> float:  # type: ignore[no-untyped-def]
    settings = await settings_with_topics(bootstrap, partitions=partitions)
    await apply_topics(settings, [SINK])
    await _load(settings, items)
    app = create_app("bench-passthrough", settings, datadir=str(datadir / "passthrough"))
    sink = app.topic(SINK.name(settings.topics))
    names = [spec.name(settings.topics) for spec in (IDENTIFIERS_OBSERVED, CONTACT_EVENTS)]
    marks: dict[str, float] = {}
    done = asyncio.Event()
    seen = 0

    @app.agent(app.topic(*names))
    async def forward(stream):  # type: ignore[no-untyped-def]
        nonlocal seen
        async for event in stream.events():
            marks.setdefault("first", time.perf_counter())
            await sink.send(key=event.message.key, value=event.message.value)
            seen += 1
            if seen == len(items):
                await app.producer.flush()
                marks["last"] = time.perf_counter()
                done.set()

    await app.start()
    try:
        await asyncio.wait_for(done.wait(), 600)
    finally:
        await app.stop()
    return len(items) / (marks["last"] - marks["first"])


def _resolved() -> float:
    return sum(metrics.EVENTS_RESOLVED.labels(outcome=o)._value.get() for o in ("resolved", "unresolved"))


async def identity(bootstrap: str, items, partitions: int, datadir: Path) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    settings = await settings_with_topics(bootstrap, partitions=partitions)
    await _load(settings, items)
    processor = IdentityProcessor(settings, identity_settings(), datadir=str(datadir / "identity"))
    marks: dict[str, float] = {}
    original = processor.intake_batch

    async def timed_intake(events):  # type: ignore[no-untyped-def]
        marks.setdefault("first", time.perf_counter())
        await original(events)

    processor.intake_batch = timed_intake  # type: ignore[method-assign]
    before = _resolved()
    messages_before = sum(s.value for m in metrics.GRAPH_MESSAGES.collect() for s in m.samples
                          if s.name.endswith("_total"))
    await processor.start()
    try:
        deadline = time.monotonic() + 900
        while _resolved() - before < len(items):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{_resolved() - before:.0f} of {len(items)} events resolved")
            await asyncio.sleep(0.01)
        marks["last"] = time.perf_counter()
    finally:
        await processor.stop()
    messages = sum(s.value for m in metrics.GRAPH_MESSAGES.collect() for s in m.samples
                   if s.name.endswith("_total")) - messages_before
    return len(items) / (marks["last"] - marks["first"]), messages / len(items)


def state_memory(identifiers: int) -> dict[str, float]:
    """Bytes of node and profile state per identifier, as the faust memory store would hold them."""
    harness = Harness(identity_settings())
    for index in range(0, identifiers, 2):
        person = [("PHONE", f"+86139{index:08d}"), ("EMAIL", f"p{index}@example.org")]
        if index % 10 == 0 and index:
            person.append(("ACCOUNT", f"ACC-{index // 20}"))  # every 10th event links two people
        harness.feed(interaction(person, minutes=index % 1000), topic="bench.contact.events.v1")
    store = harness.local.store
    nodes_json = json.dumps(store.nodes)
    profiles_json = json.dumps(store.profiles)
    counted = sum(1 for key in store.nodes if not key.startswith("cus_"))
    customers = len(store.nodes) - counted
    del harness, store
    tracemalloc.start()
    nodes = {key.encode(): value for key, value in json.loads(nodes_json).items()}
    after_nodes = tracemalloc.get_traced_memory()[0]
    profiles = {key.encode(): value for key, value in json.loads(profiles_json).items()}
    after_profiles = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del nodes, profiles
    return {"identifiers": counted, "customers": customers, "graph_bytes": after_nodes / counted,
            "profile_bytes": (after_profiles - after_nodes) / counted}


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


async def run(args: argparse.Namespace, bootstrap: str, workdir: Path) -> str:
    items = workload(args.events)
    baseline = await passthrough(bootstrap, items, args.partitions, workdir)
    rate, hops = await identity(bootstrap, items, args.partitions, workdir)
    memory = state_memory(args.memory_identifiers)
    per_million = 1_000_000 / 2**20
    return "\n".join([
        "# Identity processor benchmark",
        "",
        f"Command: `.venv/bin/python -m tests.bench.identity --events {args.events} --partitions {args.partitions} "
        f"--memory-identifiers {args.memory_identifiers}`",
        f"Machine: {machine()}.",
        f"Input: {args.events} events (half IdentifiersObserved, half InteractionRecorded, 1-3 identifiers of one "
        f"of {max(args.events // 4, 1)} people each), {args.partitions} partitions, one worker per run.",
        "",
        "| run | events/s |",
        "|---|---|",
        f"| bare faust pass-through agent (baseline, same run) | {baseline:,.0f} |",
        f"| identity processor (normalise, resolve, announce, profile, contact stream) | {rate:,.0f} |",
        f"| ratio identity / baseline | {rate / baseline:.3f} |",
        "",
        f"Graph protocol messages per event: {hops:.2f}.",
        "",
        f"Memory ({memory['identifiers']:,} identifiers in {memory['customers']:,} customers, every event a contact):",
        "",
        "| state | bytes per identifier | MiB per million identifiers |",
        "|---|---|---|",
        f"| identity graph (identifier + customer nodes) | {memory['graph_bytes']:,.0f} | "
        f"{memory['graph_bytes'] * per_million:,.0f} |",
        f"| screen-pop profiles (recent contacts, products) | {memory['profile_bytes']:,.0f} | "
        f"{memory['profile_bytes'] * per_million:,.0f} |",
        "",
    ])


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--memory-identifiers", type=int, default=200_000)
    parser.add_argument("--bootstrap-servers", default=os.environ.get("OMNIBUS_TEST_BOOTSTRAP"))
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
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
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, encoding="utf-8")
    print(report)
    return report


if __name__ == "__main__":
    main()

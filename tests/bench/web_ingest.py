"""Web-hall batch ingest: Segment batches through the real HTTP ingress to a real broker, next to a bare
aiokafka producer loop publishing the same number of equally sized Avro events, in the same run.

    .venv/bin/python -m tests.bench.web_ingest --events 20000 --batch-size 100 --senders 4 [--workers 1,2 --rounds 3]
        [--output FILE]

Prints the report; ``--output FILE`` also writes it to FILE (``tests.bench.output``): ``results/web_ingest.md``
keeps the runs, each section added by hand.

Adapter side: the web hall runs as its own process (``adapter web run``, as deployed); ``--senders``
concurrent clients in this process POST pre-built ``/v1/batch`` bodies of ``--batch-size`` track calls.
A request's latency is from sending it to its 200, which the adapter answers only after Kafka
acknowledged every event of it (acks=all, idempotent producer). CPU per event: the CPU time (user +
system, from ``/proc``) the adapter's processes spent during the measured load, over the events.

Baseline: one idempotent ``AIOKafkaProducer`` (acks=all, same compression, linger and batch size as
the adapter's producer), ``--senders`` concurrent loops each sending ``--batch-size`` records and
awaiting their acknowledgements, records pre-encoded (the Avro bytes of the same events, so equally
sized): the cost of Kafka alone. Its CPU per event is this process's CPU time during that loop. The ratio is what HTTP, JSON, mapping, Avro and dedupe add on top.
Without ``--bootstrap`` a broker is started for the run in a temporary directory.

Wire format: without ``--registry`` the records are framed as Avro single objects (registry-free mode). The
k8s deployment sets ``OMNIBUS_REGISTRY__URL``; ``--registry start`` starts the Apicurio Registry the
``registry`` tests use (``bus.stack.registry.SchemaRegistryServer``) for the run, ``--registry URL`` uses a
running Confluent-compatible one: the adapter and the bare producer's records then use the
Confluent framing (magic byte and schema id) with the schemas registered there, as deployed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiokafka import AIOKafkaProducer

from adapters.base.http import LISTENING_EVENT
from adapters.web.config import WebSettings
from adapters.web.mapper import SegmentMapper
from bus.config import OmnibusSettings
from bus.serde import SerdeContext, build_serde
from bus.stack.kafka import DEFAULT_VERSION, KafkaBroker
from bus.stack.registry import SchemaRegistryServer
from bus.topics import CONTACT_EVENTS
from tests.bench import web_ingest_floors as floors
from tests.bench.output import add_output, write
from tests.support.ports import logged_port
from tests.support.settings import settings_with_topics

ROOT = Path(__file__).resolve().parents[2]
WRITE_KEY = "wk-bench"
BASIC_AUTH = "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()  # as analytics.js sends the key


@dataclass(frozen=True)
class Measured:
    events: int
    seconds: float
    latencies_s: list[float]
    mean_record_bytes: float
    cpu_s: float  # CPU time (user + system) of the measured side during the load
    side_cpu_s: float = 0.0  # of which threads beside the event loop's (the adapter's dedupe store)
    side_threads: dict[str, float] = field(default_factory=dict)  # side_cpu_s by thread (``side_threads_cpu_s``)

    @property
    def cpu_us_per_event(self) -> float:
        return self.cpu_s / self.events * 1e6

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    def quantile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def track_message(n: int) -> dict[str, object]:
    """A track call as analytics.js sends it (about 670 bytes of JSON)."""
    return {
        "type": "track", "event": "Invoice Downloaded", "userId": f"user-{n % 5000}",
        "anonymousId": str(uuid.UUID(int=(1 << 64) + n)), "messageId": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "properties": {"invoice_id": f"BILL-2024-04-{n:06d}", "format": "pdf", "amount": 49.9},
        "context": {
            "page": {"path": "/mon-compte/factures", "title": "Mes factures",
                     "url": "https://www.example-telecom.fr/mon-compte/factures", "referrer": "", "search": ""},
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0",
            "locale": "fr-FR", "library": {"name": "analytics.js", "version": "npm:next-1.70.0"},
        },
    }


def batches(events: int, batch_size: int) -> list[list[dict[str, object]]]:
    messages = [track_message(n) for n in range(events)]
    return [messages[i : i + batch_size] for i in range(0, events, batch_size)]


async def _drain(queue: asyncio.Queue, work: object) -> None:
    while True:
        try:
            item = queue.get_nowait()
        except asyncio.QueueEmpty:
            return
        await work(item)  # type: ignore[operator]


async def run_senders(items: list, senders: int, send: object) -> tuple[float, list[float]]:
    queue: asyncio.Queue = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    latencies: list[float] = []

    async def timed(item: object) -> None:
        began = time.perf_counter()
        await send(item)  # type: ignore[operator]
        latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(_drain(queue, timed) for _ in range(senders)))
    return time.perf_counter() - began, latencies


def process_cpu_s(pid: int) -> float:
    """CPU time (user + system, seconds) of process ``pid`` and of its live children (the workers)."""
    return sum(_cpu_ticks(Path(f"/proc/{one}/stat")) for one in _adapter_pids(pid)) / os.sysconf("SC_CLK_TCK")


def side_threads_cpu_s(pid: int) -> dict[str, float]:
    """CPU time (seconds) of the threads of ``pid`` and its children other than each one's main thread (the
    event loop's), by thread: ``<name>/<thread id>`` (Python 3.11 does not give the OS its threads' names, so the
    dedupe store's SQLite thread and an executor's are both ``python``; which thread is which: its CPU)."""
    ticks: dict[str, int] = {}
    for one in _adapter_pids(pid):
        for task in Path(f"/proc/{one}/task").iterdir():
            if task.name != str(one):
                try:
                    ticks[f"{(task / 'comm').read_text().strip()}/{task.name}"] = _cpu_ticks(task / "stat")
                except (FileNotFoundError, ProcessLookupError):  # a thread that just ended
                    pass
    return {name: count / os.sysconf("SC_CLK_TCK") for name, count in ticks.items()}


def _less(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {name: seconds - before.get(name, 0.0) for name, seconds in after.items()}


def _adapter_pids(pid: int) -> list[int]:
    return [pid, *(int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]


def _cpu_ticks(stat: Path) -> int:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (stat fields 14 and 15)


def start_adapter(settings: OmnibusSettings, log_path: Path, workers: int, tmp: Path) -> subprocess.Popen[bytes]:
    """``adapter web run`` on port 0 (its workers share the port their parent holds), writing JSON lines to
    ``log_path``: ``adapter_port`` reads there the port it bound."""
    env = {
        **os.environ,
        "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "OMNIBUS_TOPICS__PREFIX": settings.topics.prefix,
        "OMNIBUS_TOPICS__PARTITIONS": str(settings.topics.partitions),
        "OMNIBUS_METRICS__ENABLED": "false",
        "OMNIBUS_LOG__LEVEL": "WARNING",  # the line naming the port is written whatever the level
        "OMNIBUS_LOG__JSON_OUTPUT": "true",
        "OMNIBUS_ADAPTER_WEB__WRITE_KEYS": json.dumps({"bench": WRITE_KEY}),
        "OMNIBUS_ADAPTER_WEB__PORT": "0",
        "OMNIBUS_ADAPTER_WEB__DEDUPE_PATH": str(tmp / "dedupe.sqlite"),  # as deployed: a file, not memory
        "OMNIBUS_REGISTRY__URL": settings.registry.url or "",  # empty: registry-free mode, whatever the shell has
    }
    command = [sys.executable, "-c", "from adapters.web.cli import app; app(prog_name='web')", "run",
               *(["--workers", str(workers)] if workers > 1 else [])]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_path.open("ab"), stderr=subprocess.STDOUT)


async def adapter_port(log_path: Path, process: subprocess.Popen[bytes]) -> int:
    """The port the adapter started by ``start_adapter`` logged (``adapters.base.http.LISTENING_EVENT``), waited for."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the adapter exited with {process.returncode}")
        port = logged_port(log_path.read_text(errors="replace"), LISTENING_EVENT)
        if port is not None:
            return port
        await asyncio.sleep(0.1)
    raise TimeoutError(f"the adapter logged no port in 90 s (see {log_path})")


async def wait_healthy(session: aiohttp.ClientSession, url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the adapter exited with {process.returncode}")
        try:
            async with session.get(url + "/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise TimeoutError("the adapter did not become healthy in 60 s")


async def measure_adapter(
    settings: OmnibusSettings, work: list[list[dict]], senders: int, workers: int, tmp: Path, single_events: int = 0,
) -> tuple[Measured, Measured | None]:
    """The batch load (``POST /v1/batch``), then ``single_events`` more track calls one per request
    (``POST /v1/track``), each measured on its own, against one adapter process."""
    bodies = [json.dumps({"batch": batch, "writeKey": WRITE_KEY}).encode() for batch in work]
    process = start_adapter(settings, tmp / "adapter.log", workers, tmp)
    try:
        url = f"http://127.0.0.1:{await adapter_port(tmp / 'adapter.log', process)}"
        connector = aiohttp.TCPConnector(limit=senders)
        async with aiohttp.ClientSession(connector=connector) as session:
            await wait_healthy(session, url, process)

            async def post(body: bytes) -> None:
                async with session.post(url + "/v1/batch", data=body, headers={"Content-Type": "application/json"}) as r:
                    if r.status != 200:
                        raise RuntimeError(f"adapter answered {r.status}: {await r.text()}")

            for n in range(2 * workers):  # warm-up: every worker's metadata and producer id, if it gets one
                await post(json.dumps({"batch": [track_message(10**9 + n)], "writeKey": WRITE_KEY}).encode())
            cpu_before, side_before = process_cpu_s(process.pid), side_threads_cpu_s(process.pid)
            seconds, latencies = await run_senders(bodies, senders, post)
            cpu_s = process_cpu_s(process.pid) - cpu_before
            side_threads = _less(side_threads_cpu_s(process.pid), side_before)
            single = None
            if single_events:
                calls = [json.dumps(track_message(2 * 10**9 + n)).encode() for n in range(single_events)]

                async def track(body: bytes) -> None:
                    async with session.post(url + "/v1/track", data=body, headers={
                            "Content-Type": "application/json", "Authorization": BASIC_AUTH}) as r:
                        if r.status != 200:
                            raise RuntimeError(f"adapter answered {r.status}: {await r.text()}")

                cpu_before = process_cpu_s(process.pid)
                single_seconds, single_latencies = await run_senders(calls, senders, track)
                single = Measured(single_events, single_seconds, single_latencies,
                                  sum(len(c) for c in calls) / single_events, process_cpu_s(process.pid) - cpu_before)
    finally:
        process.terminate()
        process.wait(60)
    batch = Measured(sum(len(b) for b in work), seconds, latencies,
                     sum(len(b) for b in bodies) / sum(len(b) for b in work), cpu_s, sum(side_threads.values()),
                     side_threads)
    return batch, single


async def measure_bare_producer(settings: OmnibusSettings, work: list[list[dict]], senders: int) -> Measured:
    """The same events, Avro-encoded beforehand, through a bare idempotent acks=all producer."""
    serializer, _ = build_serde(settings.registry)
    mapper = SegmentMapper(WebSettings(write_keys={"bench": WRITE_KEY}), settings.topics)
    topic = CONTACT_EVENTS.name(settings.topics)
    encoded = [
        [(o.key.encode(), serializer(o.event, SerdeContext(topic=topic))) for m in batch for o in mapper(m, source="bench").events]
        for batch in work
    ]
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka.bootstrap_servers, acks="all", enable_idempotence=True,
        compression_type=settings.producer.compression_type, linger_ms=settings.producer.linger_ms,
        max_batch_size=settings.producer.max_batch_size,
    )
    await producer.start()
    try:
        async def send(batch: list[tuple[bytes, bytes]]) -> None:
            futures = [await producer.send(topic, value=value, key=key) for key, value in batch]
            await asyncio.gather(*futures)

        await send(encoded[0][:1])  # warm-up: metadata, producer id
        cpu_before = time.process_time()
        seconds, latencies = await run_senders(encoded, senders, send)
        cpu_s = time.process_time() - cpu_before
    finally:
        await producer.stop()
    return Measured(sum(len(b) for b in encoded), seconds, latencies, sum(len(v) for b in encoded for _, v in b) / bare_count(encoded),
                    cpu_s)


def bare_count(encoded: list[list[tuple[bytes, bytes]]]) -> int:
    return sum(len(batch) for batch in encoded)


def getloadavg() -> str:
    return " / ".join(f"{load:.2f}" for load in os.getloadavg())


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return f"{os.cpu_count()} cores ({cpu}), {memory_kb / 2**20:.0f} GiB RAM, Python {platform.python_version()}, Linux {platform.release()}"


def worker_label(workers: int) -> str:
    return f"{workers} worker{'s' if workers > 1 else ''}"


def median_run(runs: list[Measured]) -> Measured:
    return sorted(runs, key=lambda measured: measured.cpu_us_per_event)[(len(runs) - 1) // 2]


def scaling(runs: list[tuple[int, Measured]]) -> str:
    """Per worker count: median CPU per event and events/s over its rounds, and events/s against the first
    count's in the same round (``--workers 1,2``), or nothing for a single count."""
    counts = list(dict.fromkeys(workers for workers, _ in runs))
    if len(counts) < 2:
        return ""
    per_round = [runs[start : start + len(counts)] for start in range(0, len(runs), len(counts))]
    lines = ["Worker processes (`--workers`), measured in turn in this run (medians over the rounds):", ""]
    for index, count in enumerate(counts):
        mine = [measured for workers, measured in runs if workers == count]
        cpu = sorted(m.cpu_us_per_event for m in mine)[(len(mine) - 1) // 2]
        rate = sorted(m.events_per_s for m in mine)[(len(mine) - 1) // 2]
        line = f"- {worker_label(count)}: {cpu:.0f} µs CPU per event, {rate:,.0f} events/s"
        if index:
            ratios = ", ".join(f"{group[index][1].events_per_s / group[0][1].events_per_s:.2f}x" for group in per_round)
            line += f"; events/s against {worker_label(counts[0])} in the same round: {ratios}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def threads(measured: Measured) -> str:
    """µs per event of each thread beside the event loop that ran, largest first."""
    named = sorted(((name, s) for name, s in measured.side_threads.items() if s > 0), key=lambda pair: -pair[1])
    return ", ".join(f"{name} {seconds / measured.events * 1e6:.1f}" for name, seconds in named) or "none"


def wire_format(registry_url: str | None) -> str:
    """The report's line on how records are framed."""
    if registry_url:
        return (f"Confluent framing (magic byte and schema id), schemas registered in the registry at {registry_url},"
                " as the k8s deployment runs")
    return "Avro single-object framing (registry-free mode, schemas from schemas/); the k8s deployment uses a registry"


def report(args: argparse.Namespace, runs: list[tuple[int, Measured]], bare: Measured, broker: str,
           single: Measured | None = None, library: floors.Floors | None = None,
           registry: str | None = None) -> str:
    """The markdown report; ``runs``: (worker processes, the batch load's figures), in the order run."""
    # the figures the text quotes: the median run (by CPU per event) of the first worker count
    adapter = median_run([measured for workers, measured in runs if workers == runs[0][0]])
    ratio = adapter.events_per_s / bare.events_per_s
    rows = [(f"web hall ({worker_label(workers)}): HTTP /v1/batch -> mapper -> Avro -> Kafka", measured)
            for workers, measured in runs]
    if single is not None:
        rows.append((f"web hall, single calls: HTTP /v1/track, one event per request, {args.senders} senders", single))
    rows.append(("baseline: bare aiokafka producer loop (pre-encoded Avro)", bare))
    table = "\n".join(
        f"| {name} | {m.events} | {m.seconds:.2f} | {m.events_per_s:,.0f} | {m.cpu_us_per_event:.0f} | {m.quantile_ms(0.5):.1f} | {m.quantile_ms(0.99):.1f} |"
        for name, m in rows
    )
    single_line = (
        f"A single `/v1/track` call costs {single.cpu_us_per_event:.0f} µs of adapter CPU per event: HTTP, the dedupe"
        " transaction and the Kafka request are paid per event there; it is far above 60 µs and is not the figure"
        " the target is measured on."
        if single is not None else "")
    return f"""# Web-hall batch ingest benchmark

Run: `.venv/bin/python -m tests.bench.web_ingest --events {args.events} --batch-size {args.batch_size} --senders {args.senders} --partitions {args.partitions} --workers {','.join(map(str, args.workers))} --rounds {args.rounds} --single-events {args.single_events}{" --registry " + args.registry if args.registry else ""}`
on {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}.

Machine: {machine()}. Broker: {broker}. Records: {wire_format(registry)}. The adapter, the senders, the baseline and the broker share these cores;
load average (1 / 5 / 15 min) at the start: {args.load_at_start}, at the end: {getloadavg()}. The machine is
shared with other jobs and was loaded: absolute numbers (CPU per event too, as CPUs contended for run
slower) are higher than on an idle machine; the ratios to the baseline, measured in the same run, are
the figures to compare.

What is measured: {args.events} Segment `track` calls ({adapter.mean_record_bytes:.0f} bytes of JSON each) in batches of {args.batch_size},
posted by {args.senders} concurrent senders to the web hall running as its own process (`adapter web run`).
Latency is per request, from sending it to its 200, which the adapter answers only after Kafka
acknowledged every event of it (idempotent producer, acks=all). The baseline, measured in the same run
against the same broker, sends the same events already Avro-encoded ({bare.mean_record_bytes:.0f}-byte records, what the adapter publishes) with a bare
idempotent acks=all `AIOKafkaProducer` (same compression, linger and batch size), {args.senders} concurrent loops of
{args.batch_size} records each awaiting their acknowledgements; its latency is per batch of {args.batch_size}.

| path | events | seconds | events/s | CPU per event (µs) | p50 ack latency (ms) | p99 ack latency (ms) |
|---|---:|---:|---:|---:|---:|---:|
{table}

The web hall's per-event figure, the one the ≤ 60 µs target is measured on, is the batch row: SDKs
(analytics.js, the mobile and server libraries) send their events in `/v1/batch` requests. {single_line}

CPU per event (batch): the adapter's processes {adapter.cpu_us_per_event:.0f} µs (target ≤ 60 µs: {"met" if adapter.cpu_us_per_event <= 60 else "NOT met"}), the bare producer
{bare.cpu_us_per_event:.0f} µs, so {adapter.cpu_us_per_event - bare.cpu_us_per_event:.0f} µs is what HTTP, JSON, checks, mapping, Avro and
dedupe add ({adapter.cpu_us_per_event / bare.cpu_us_per_event:.2f}x the producer alone). Of the adapter's
{adapter.cpu_us_per_event:.0f} µs, {adapter.side_cpu_s / adapter.events * 1e6:.1f} µs ran in threads beside the event loop's
({threads(adapter)}).

{scaling(runs)}
Ratio (web hall / baseline): throughput {ratio:.2f}x, p50 latency {adapter.quantile_ms(0.5) / bare.quantile_ms(0.5):.2f}x,
p99 latency {adapter.quantile_ms(0.99) / bare.quantile_ms(0.99):.2f}x.

{floors.section(adapter.cpu_us_per_event, library, bare.cpu_us_per_event, args.batch_size) if library else ""}"""


async def run(args: argparse.Namespace, bootstrap_servers: str, broker: str, registry_url: str | None = None) -> str:
    """Every ``--workers`` count (``--rounds`` times, in turn, so each meets the same moments of a shared
    machine), then the bare producer; the report's table has a row per count and round. ``registry_url``: the
    schema registry every side uses (Confluent framing), or None for registry-free mode."""
    settings = await settings_with_topics(bootstrap_servers, partitions=args.partitions,
                                          registry={"url": registry_url})
    work = batches(args.events, args.batch_size)
    runs: list[tuple[int, Measured]] = []
    single = None
    for round_ in range(args.rounds):
        for workers in args.workers:
            # single calls once, beside the first count's first round
            single_events = args.single_events if not runs else 0
            # fresh message ids per round: a round must not be answered from the dedupe store of another
            round_work = work if round_ == 0 else [[{**m, "messageId": f"{m['messageId']}-{round_}"} for m in b]
                                                   for b in work]
            with tempfile.TemporaryDirectory() as tmp:
                adapter, one_by_one = await measure_adapter(settings, round_work, args.senders, workers, Path(tmp),
                                                            single_events)
            runs.append((workers, adapter))
            single = single or one_by_one
    bare = await measure_bare_producer(settings, work, args.senders)
    # the library floors of the same bodies, right after (tests.bench.web_ingest_floors)
    http = await floors.measure_http(work, args.senders, WRITE_KEY)
    bodies = [json.dumps({"batch": batch, "writeKey": WRITE_KEY}).encode() for batch in work]
    parse, avro, insert, lookup = floors.in_process(settings, bodies, [m for batch in work for m in batch],
                                                    args.batch_size, WebSettings(write_keys={"bench": WRITE_KEY}))
    return report(args, runs, bare, broker, single, floors.Floors(http, parse, avro, insert, lookup), registry_url)


def worker_counts(text: str) -> list[int]:
    """``--workers``: "2" or "1,2"."""
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("worker counts are whole numbers >= 1, comma-separated")
    return counts


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.web_ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="Segment calls to send (default 20000).")
    parser.add_argument("--batch-size", type=int, default=100, help="Calls per /v1/batch request (default 100).")
    parser.add_argument("--senders", type=int, default=4, help="Concurrent senders (default 4).")
    parser.add_argument("--partitions", type=int, default=3, help="Partitions per topic (default 3).")
    parser.add_argument("--workers", type=worker_counts, default=[1],
                        help="Adapter worker processes; several counts comma-separated (1,2), each measured "
                             "against its own adapter in the same run (default 1).")
    parser.add_argument("--rounds", type=int, default=1,
                        help="Measure every --workers count this many times, in turn (default 1).")
    parser.add_argument("--single-events", type=int, default=2000,
                        help="Then this many single /v1/track calls, measured apart (default 2000; 0: none).")
    parser.add_argument("--bootstrap", help="Use this broker instead of starting one.")
    parser.add_argument("--registry", help="'start': start a schema registry (Apicurio) for the run; a URL: use "
                                           "that Confluent-compatible registry. Default: none (single-object framing).")
    add_output(parser)
    args = parser.parse_args(argv)
    args.load_at_start = getloadavg()
    return args


def main(argv: list[str] | None = None) -> str:
    args = parse(argv)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as servers:
        registry_url = args.registry
        if args.registry == "start":
            registry_url = servers.enter_context(SchemaRegistryServer(Path(tmp))).url
        if args.bootstrap:
            bootstrap, broker = args.bootstrap, f"given ({args.bootstrap})"
        else:
            bootstrap = servers.enter_context(KafkaBroker(Path(tmp))).bootstrap_servers
            broker = f"Apache Kafka {DEFAULT_VERSION} (KRaft, one node, started for the run)"
        text = asyncio.run(run(args, bootstrap, broker, registry_url))
    print(write(text, args.output))
    return text


if __name__ == "__main__":
    main()

"""The library floors under the web hall's CPU per event (#9 build 6), measured in the web-ingest run itself.

Each floor is what one library the adapter cannot do without costs per event on the same bodies, at the
same batch size, on the same machine at the same moment as the adapter (``tests.bench.web_ingest``):

* HTTP: an aiohttp server in its own process, started as the adapter's is (``adapters.base.http.serve``:
  the same runner options), whose ``/v1/batch`` handler only reads the body and answers 200; the same
  bodies posted by the same senders; its processes' CPU from ``/proc`` over the events (as the adapter's);
* JSON parse: msgspec (the adapter's parser) and orjson (when installed) of the same bodies, no checks;
* Avro: fastavro's encoding of the mapped records (the Segment mapper's output, mapped before the clock
  starts) with each record's parsed schema from the catalog, through fastavro's ``write_data`` as
  ``bus.serde.avro_body.encode_body`` calls it and through fastavro's public ``schemaless_writer``;
* dedupe: the dedupe store's insert of the batch's ids (``adapters.base.dedupe.DedupeStore.remember``, an
  SQLite file, one transaction per batch) and, apart, its look-up (``seen``) as the adapter also runs it;
* Kafka: the bare producer loop of the run (``measure_bare_producer``).

In-process floors are the least of ``RUNS`` tight loops (``time.process_time``): on a shared machine the
least is the least disturbed. The sum of the floors (the cheaper parser, the cheaper encoder, the insert)
is what any web hall built on these libraries pays per event; the adapter's CPU per event is compared to it.

    PYTHONPATH=$PWD .venv/bin/python -m tests.bench.web_ingest_floors serve --port PORT   # the HTTP floor server
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import fastavro
import msgspec
from aiohttp import web

from adapters.base.dedupe import DedupeStore
from adapters.web.config import MAX_BATCH_BYTES, WebSettings
from adapters.web.mapper import SegmentMapper
from bus.config import OmnibusSettings
from bus.serde.avro_body import encode_body
from schemas.catalog import default_catalog

RUNS = 5  # tight loops per in-process floor; the least counts
DIGEST = bytes(32)  # a content digest's size (SHA-256): what the web hall stores beside each id
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Floors:
    """Floors in µs of CPU per event (``http``: the server process's; the rest in-process)."""

    http: float
    parse: dict[str, float]  # parser -> µs
    avro: dict[str, float]  # encoder -> µs
    dedupe_insert: float
    dedupe_lookup: float

    def library_sum(self, producer: float) -> float:
        """HTTP + the cheaper parser + the cheaper encoder + the dedupe insert + the bare producer."""
        return self.http + min(self.parse.values()) + min(self.avro.values()) + self.dedupe_insert + producer


def least_us(work: Callable[[], object], events: int, runs: int = RUNS) -> float:
    """The least CPU µs per event of ``runs`` calls of ``work`` (which handles ``events`` events)."""
    spent = []
    for _ in range(runs):
        started = time.process_time()
        work()
        spent.append(time.process_time() - started)
    return min(spent) / events * 1e6


def parse_floors(bodies: list[bytes], events: int) -> dict[str, float]:
    decode = msgspec.json.Decoder().decode
    floors = {"msgspec": least_us(lambda: [decode(body) for body in bodies], events)}
    try:
        import orjson
    except ImportError:  # a test extra (pyproject.toml); without it the msgspec floor stands alone
        return floors
    floors["orjson"] = least_us(lambda: [orjson.loads(body) for body in bodies], events)
    return floors


def avro_floors(settings: OmnibusSettings, messages: list[dict[str, Any]], web_settings: WebSettings) -> dict[str, float]:
    mapper = SegmentMapper(web_settings, settings.topics, settings.identifiers)
    now, catalog = datetime.now(UTC), default_catalog()
    events = [outgoing.event for m in messages for outgoing in mapper(m, source="bench", received_at=now).events]
    schemas = [catalog.get(event.schema) for event in events]
    pairs = [(schema.parsed, event.value, schema.fullname) for schema, event in zip(schemas, events, strict=True)]

    def public() -> None:
        for parsed, value, _ in pairs:
            fastavro.schemaless_writer(BytesIO(), parsed, value)

    return {"fastavro write_data (as bus.serde.avro_body.encode_body)":
            least_us(lambda: [encode_body(parsed, value, name) for parsed, value, name in pairs], len(messages)),
            "fastavro schemaless_writer": least_us(public, len(messages))}


def dedupe_floors(ids: list[str], batch_size: int) -> tuple[float, float]:
    """(insert, look-up) µs per id of the dedupe store in an SQLite file, per batch of ``batch_size`` ids; each id
    inserted with a 32-byte content digest, as the web hall remembers its ids (``SegmentMapper``'s digest)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = DedupeStore(Path(tmp) / "dedupe.sqlite", 86_400)
        rounds = iter(range(RUNS * 2))
        try:
            def insert() -> None:
                run = next(rounds)
                for start in range(0, len(ids), batch_size):
                    batch = [f"{i}#{run}" for i in ids[start : start + batch_size]]
                    store.remember(batch, dict.fromkeys(batch, DIGEST))

            def lookup() -> None:
                for start in range(0, len(ids), batch_size):
                    store.seen(ids[start : start + batch_size])

            return least_us(insert, len(ids)), least_us(lookup, len(ids))
        finally:
            store.close()


def in_process(settings: OmnibusSettings, bodies: list[bytes], messages: list[dict[str, Any]],
               batch_size: int, web_settings: WebSettings) -> tuple[dict[str, float], dict[str, float], float, float]:
    """Parse, Avro and dedupe floors (µs per event) of the run's bodies and messages."""
    parse = parse_floors(bodies, len(messages))
    avro = avro_floors(settings, messages, web_settings)
    insert, lookup = dedupe_floors([str(m["messageId"]) for m in messages], batch_size)
    return parse, avro, insert, lookup


def start_http_floor(port: int, log_path: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tests.bench.web_ingest_floors", "serve", "--port", str(port)]
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=log_path.open("ab"), stderr=subprocess.STDOUT)


async def serve_http_floor(port: int) -> None:
    """Until SIGTERM: ``/v1/batch`` reads the body and answers 200; ``/healthz`` answers 200."""
    from adapters.base.http import serve  # the adapter's runner options

    async def batch(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"success": True})

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=MAX_BATCH_BYTES * 3 // 2)  # as the web hall's
    app.router.add_post("/v1/batch", batch)
    app.router.add_get("/healthz", health)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    server = await serve(app, "127.0.0.1", port)
    await stop.wait()
    await server.stop()


async def measure_http(work: list[list[dict[str, Any]]], senders: int, write_key: str) -> float:
    """The HTTP floor: CPU µs per event of the floor server's process over the run's bodies and senders."""
    import aiohttp

    from tests.bench import web_ingest as bench  # the run's own senders and /proc reading (imports this module)
    from tests.support.ports import reserved_port

    bodies = [msgspec.json.encode({"batch": batch, "writeKey": write_key}) for batch in work]
    with tempfile.TemporaryDirectory() as tmp, reserved_port() as port:  # held until the floor server has stopped
        url = f"http://127.0.0.1:{port}"
        process = start_http_floor(port, Path(tmp) / "floor.log")
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=senders)) as session:
                await bench.wait_healthy(session, url, process)

                async def post(body: bytes) -> None:
                    async with session.post(url + "/v1/batch", data=body,
                                            headers={"Content-Type": "application/json"}) as response:
                        if response.status != 200:
                            raise RuntimeError(f"the HTTP floor answered {response.status}")

                await post(bodies[0])  # warm-up
                before = bench.process_cpu_s(process.pid)
                await bench.run_senders(bodies, senders, post)
                spent = bench.process_cpu_s(process.pid) - before
        finally:
            process.terminate()
            process.wait(60)
    return spent / sum(len(batch) for batch in work) * 1e6


def section(adapter_us: float, floors: Floors, producer_us: float, batch_size: int) -> str:
    """The report's floors section: each floor, their sum, and the adapter against it and the 60 µs target."""
    total = floors.library_sum(producer_us)
    rows = [("HTTP: aiohttp handler that reads the body and answers 200 (own process, same bodies and senders)",
             floors.http),
            *((f"JSON parse: {name}", figure) for name, figure in floors.parse.items()),
            *((f"Avro encode of the mapped records: {name}", figure) for name, figure in floors.avro.items()),
            (f"dedupe store insert of the ids with their digests (SQLite file, one transaction per {batch_size})",
             floors.dedupe_insert),
            (f"dedupe store look-up of the ids (per {batch_size}; the adapter runs it too, not in the sum)",
             floors.dedupe_lookup),
            ("Kafka: the bare producer loop above", producer_us)]
    verdict = ("**below** the sum of the library floors: no web hall on these libraries reaches it"
               if 60 < total else "above the sum of the library floors: the floors do not block it")
    return "\n".join([
        f"Library floors, same run, same bodies, batches of {batch_size} (`tests.bench.web_ingest_floors`; "
        f"in-process floors the least of {RUNS} loops):",
        "",
        "| floor | CPU per event (µs) |",
        "|---|---:|",
        *(f"| {name} | {figure:.1f} |" for name, figure in rows),
        f"| **sum of the library floors** (HTTP + cheaper parser + cheaper encoder + insert + producer) | "
        f"**{total:.1f}** |",
        f"| the adapter (median run above) | {adapter_us:.1f} |",
        "",
        f"The adapter spends {adapter_us - total:.0f} µs per event above the sum of its libraries' floors "
        f"({adapter_us / total:.2f}×): mapping, checks, ids, the dedupe look-up and the glue. The ≤ 60 µs target "
        f"is {verdict}.",
        "",
    ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.web_ingest_floors", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_command = commands.add_parser("serve", help="Run the HTTP floor server until SIGTERM.")
    serve_command.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve_http_floor(args.port))


if __name__ == "__main__":
    main()

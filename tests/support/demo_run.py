"""One demo run for the tests that check it (the session fixture ``demo_run`` in tests/fixtures/demo.py).

``run_once`` runs ``demo.run.run_demo`` (its own broker and registry, every adapter and processor, scripted journeys
on every channel) and keeps what those tests read: what it printed, every log line, its /metrics page, the KPI days
and every record of every topic, decoded while the registry still ran. ``tests/demo/test_demo.py`` (the screen pop,
the KPIs) and ``tests/security/test_demo_scan.py`` (no identifier in plain text) check the same journey, so it runs
once, not twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import zstandard
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from rich.console import Console

from bus.config import OmnibusSettings
from bus.kafka_client import connection_options
from bus.logging import configure_logging
from bus.serde import SerdeContext, build_serde
from bus.topics import KPI_AGGREGATES
from demo.run import run_demo
from processors.identity.graph.contact_codec import CONTACT_ZSTD_V1, decode_contact
from processors.identity.graph.customer_codec import CUSTOMER_WITH_PROFILE, CUSTOMER_ZSTD_V1
from processors.identity.graph.identifier_codec import OWNED_IDENTIFIER_V1, V2_BANDS
from processors.identity.graph.state import decode_state
from tests.support.kafka_io import read_events

DEMO_CUSTOMERS = 4
KPI_POLLS = 60  # seconds, one read a second, until the day's contacts and the offer are counted


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    decoded: Any


@dataclass
class DemoRun:
    """What one demo run showed and left: ``ok`` (``run_demo``'s answer), ``console`` (what it printed),
    ``log_lines`` (DEBUG and up, the libraries' too), ``metrics`` (its one /metrics page while it ran),
    ``kpi_days`` (``KPI_AGGREGATES`` records of DAY granularity, read until ``counted`` held or ``KPI_POLLS`` s
    passed), ``records`` (topic -> every record, decoded) and ``settings`` (the demo's)."""

    ok: bool = False
    console: str = ""
    log_lines: list[str] = field(default_factory=list)
    metrics: str = ""
    kpi_days: list[dict[str, Any]] = field(default_factory=list)
    records: dict[str, list[Record]] = field(default_factory=dict)
    settings: list[OmnibusSettings] = field(default_factory=list)


def counted(days: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the days with contacts, the WEB days that counted an offer shown and accepted) of ``days``."""
    with_contacts = [day for day in days if day["contacts"] > 0]
    # New-user finding #4: the offer acceptance was always "-" (nothing presented; answers back-dated)
    offers = [day for day in days if day["channel"] == "WEB" and day["offers_presented"] >= 1
              and day["offers_accepted"] >= 1]  # the revision that counted both (they come one by one)
    return with_contacts, offers


def decoded(deserializer: Any, message: Any) -> Any:
    """The record's value as the registry's Avro schema reads it, else as JSON, msgpack (identity's graph messages
    and node changelog) or text, whichever works first."""
    if message.value is None:
        return None
    try:
        return deserializer(message.value, SerdeContext(topic=message.topic)).value
    except Exception:  # noqa: BLE001 - not an Avro record of ours: an internal topic or a changelog
        pass
    return decoded_internal(message.value)


def decoded_internal(value: bytes) -> Any:
    text = value.decode("utf-8", errors="replace")
    with contextlib.suppress(ValueError):
        return json.loads(text)
    with contextlib.suppress(msgspec.DecodeError):
        return msgspec.msgpack.decode(value)
    if value[:1] == bytes((CONTACT_ZSTD_V1,)):  # a contacts-table record, compressed: its fields
        with contextlib.suppress(ValueError, msgspec.DecodeError, zstandard.ZstdError):
            return msgspec.to_builtins(decode_contact(value), builtin_types=(bytes,))
    marks = (CUSTOMER_ZSTD_V1, CUSTOMER_WITH_PROFILE, *V2_BANDS)
    if value[:1] and (value[0] >= OWNED_IDENTIFIER_V1 or value[0] in marks):
        # never a plain state: identity's packed form of an owned identifier's node state, or a customer's
        # compressed (alone or with its profile): its fields, as the plain form decodes them
        with contextlib.suppress(ValueError, msgspec.DecodeError):
            return msgspec.to_builtins(decode_state(value), builtin_types=(bytes,))
    return text


async def read_every_topic(settings: OmnibusSettings) -> dict[str, list[Any]]:
    """Every record of every non-broker topic, from offset 0 to the end offsets seen at the start."""
    options = connection_options(settings.kafka)
    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:
        names = [name for name in await admin.list_topics() if not name.startswith("__")]
    finally:
        await admin.close()
    options["client_id"] = f"scan-{uuid.uuid4().hex[:6]}"
    consumer = AIOKafkaConsumer(**options, group_id=None, enable_auto_commit=False)
    await consumer.start()
    records: dict[str, list[Any]] = {name: [] for name in names}
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001 - topics made by other clients
        tps = [TopicPartition(name, p) for name in names for p in sorted(consumer.partitions_for_topic(name) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = {tp: end for tp, end in (await consumer.end_offsets(tps)).items() if end > 0}
        while ends:
            batch = await consumer.getmany(*ends, timeout_ms=10_000)
            assert batch, f"records up to {ends} did not arrive"
            for tp, messages in batch.items():
                records[tp.topic] += messages
                if messages[-1].offset + 1 >= ends[tp]:
                    del ends[tp]
    finally:
        await consumer.stop()
    return records


async def _run(log_file: Path) -> DemoRun:
    run = DemoRun()

    async def inspect(settings: OmnibusSettings, endpoints: Any) -> None:  # while everything still runs
        run.settings.append(settings)
        async with aiohttp.ClientSession() as http, http.get(endpoints.metrics) as response:
            run.metrics = await response.text() if response.status == 200 else f"HTTP {response.status}"
        for _ in range(KPI_POLLS):
            run.kpi_days = [e.event.value for e in await read_events(settings, KPI_AGGREGATES)
                            if e.event.value["granularity"] == "DAY"]
            if all(counted(run.kpi_days)):
                break
            await asyncio.sleep(1)
        _, deserializer = build_serde(settings.registry)
        for topic, messages in (await read_every_topic(settings)).items():
            run.records[topic] = [Record(m.partition, m.offset, m.key, m.value, list(m.headers or ()),
                                         decoded(deserializer, m)) for m in messages]

    console = Console(record=True, width=160, file=io.StringIO())
    configure_logging("DEBUG")
    try:
        with open(log_file, "w") as stream, contextlib.redirect_stderr(stream):
            run.ok = await run_demo(DEMO_CUSTOMERS, keep_running=False, console=console, inspect=inspect)
    finally:
        configure_logging("WARNING")
        logging.getLogger().setLevel(logging.WARNING)
    run.console = console.export_text()
    run.log_lines = log_file.read_text().splitlines()
    return run


def run_once(log_file: Path) -> DemoRun:
    """Run the demo once (its logs, DEBUG and up, to ``log_file``) and return what it showed and left."""
    return asyncio.run(_run(log_file))

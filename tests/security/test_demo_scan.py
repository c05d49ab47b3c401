"""Issue #13 build 7: a full demo run (``omnibus demo``: its own broker and registry, every adapter and processor,
scripted journeys on every channel) is scanned for customer identifiers in plain text.

- Every log line (DEBUG and up, the libraries' too, as the project's logging writes them) and every line the demo
  prints: no national ID, card number, phone number or e-mail address at all.
- Every record of every topic on the broker (public, internal and faust's changelogs; key, value and headers),
  decoded: no national ID or card number anywhere (they are tokenised at the adapter), phones and e-mail addresses
  only where the contract puts them (see ``tests/security/identifier_scan.py``).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import pickle
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from rich.console import Console

from bus.config import OmnibusSettings
from bus.kafka_client import connection_options
from bus.logging import configure_logging
from bus.serde import SerdeContext, build_serde
from bus.topics import DEAD_LETTERS, IDENTITY_GRAPH
from demo.people import customers
from demo.run import MALFORMED_NATIONAL_ID, run_demo
from tests.security.identifier_scan import Finding, scan_lines, scan_record

pytestmark = [pytest.mark.kafka, pytest.mark.registry, pytest.mark.slow, pytest.mark.timeout(900)]
COUNT = 4
REGION = "FR"  # the demo's callers are French numbers
# A dead letter's original key, value and header values: refused input, kept to be repaired and replayed.
RAW_PATHS = frozenset({"key", "value.record.key", "value.record.value", "value.record.headers"})


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    decoded: Any


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
    return text


def key_text(key: bytes | None) -> str | None:
    """A key as text; faust's table changelogs hold JSON strings (``b'"EMAIL:ann@x.org"'``): their content."""
    if key is None:
        return None
    text = key.decode("utf-8", errors="replace")
    with contextlib.suppress(ValueError):
        inner = json.loads(text)
        if isinstance(inner, str):
            return inner
    return text


async def test_a_demo_run_shows_no_identifier_where_it_must_not_be(tmp_path: Path) -> None:
    people = customers(COUNT)
    national_ids = [person.national_id for person in people] + [MALFORMED_NATIONAL_ID]
    records: dict[str, list[Any]] = {}
    settings_seen: list[OmnibusSettings] = []

    async def inspect(settings: OmnibusSettings, _: object) -> None:  # while the registry still runs: decode here
        settings_seen.append(settings)
        _, deserializer = build_serde(settings.registry)
        for topic, messages in (await read_every_topic(settings)).items():
            records[topic] = [Record(m.partition, m.offset, m.key, m.value, list(m.headers or ()),
                                     decoded(deserializer, m)) for m in messages]

    console = Console(record=True, width=160, file=io.StringIO())
    log_file = tmp_path / "demo.log"
    configure_logging("DEBUG")
    try:
        with open(log_file, "w") as stream, contextlib.redirect_stderr(stream):
            assert await run_demo(COUNT, keep_running=False, console=console, inspect=inspect)
    finally:
        configure_logging("WARNING")
        logging.getLogger().setLevel(logging.WARNING)

    lines = log_file.read_text().splitlines() + console.export_text().splitlines()
    assert len(lines) > 100, "the run logged almost nothing: is the logging captured?"
    findings: list[Finding] = scan_lines(lines, region=REGION, known=national_ids)

    (settings,) = settings_seen
    with open(tmp_path / "records.pickle", "wb") as dump:  # kept in pytest's temp folder, to read a failure offline
        pickle.dump(records, dump)
    dead_letters = DEAD_LETTERS.name(settings.topics)
    # identity's graph messages and node changelog carry the original event (registry-framed Avro) as bytes
    identity_internal = {IDENTITY_GRAPH.name(settings.topics),
                         f"{settings.topics.prefix}.identity-identity-nodes-changelog"}
    scanned = 0
    for topic, messages in records.items():
        for message in messages:
            scanned += 1
            where = f"{topic}[{message.partition}]@{message.offset}"
            headers = {name: value.decode("utf-8", errors="replace") for name, value in message.headers if value}
            findings += scan_record(where, key_text(message.key),
                                    {"record": message.decoded, "headers": headers},
                                    raw_paths=RAW_PATHS if topic == dead_letters else (), region=REGION,
                                    known=national_ids, embedded_records=topic in identity_internal)
    assert scanned > 200, scanned
    summary = sorted({f"{f.kind} at {f.where.split('[')[0]} {f.where.split(' ', 1)[-1]}" for f in findings})
    assert not findings, f"{len(findings)} identifiers in plain text ({scanned} records, {len(lines)} lines):\n" + \
        "\n".join(summary[:80])
    (dead_letter,) = records[dead_letters]  # the demo's malformed identify: kept, with tokens for the secrets
    assert b"x@example.com" in dead_letter.decoded["value"] and b"nid1:" in dead_letter.decoded["value"]
    assert dead_letter.decoded["value"].count(b"card1:") == 1

"""#13 build 5: poison written straight into every input topic of every processor while all four run.

The topics are not listed by hand: every faust agent of every processor is built (not started) and asked
which topics it reads (``agent_inputs``), so a new agent or input is poisoned too. On each topic go random
bytes, truncated Avro, an unknown writer fingerprint, a record of a type the topic does not carry, a
900 KB value and a valid record whose header key is the bytes ``FF FE``; valid events go before and after
them on the main inputs. Expected: each poison record dead-lettered by each processor that reads it, with
its original bytes; the valid events processed; no worker stopped; every group committed to the end.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import TopicPartition

from bus.config import OmnibusSettings
from bus.dead_letter import dead_letter_event
from bus.errors import RawRecord
from bus.serde import Event, SerdeContext, build_serde
from bus.topics import CONTACT_EVENTS, CUSTOMER_CONTACTS, HANDOFF_EVENTS, IDENTIFIERS_OBSERVED
from tests.support.commit_stall import uncommitted
from tests.faults.stack import PROCESSORS, stack
from tests.processors.handoffs.factories import created
from tests.processors.identity.broker import assignments
from tests.processors.identity.support import interaction, observed
from tests.support.fault_report import machine, record_fault
from tests.support.kafka_io import POISON_KEY, read_dead_letters, read_events
from tests.support.poison import send_with_header_key

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def agent_inputs(settings: OmnibusSettings) -> dict[str, set[str]]:
    """Processor name -> every topic one of its faust agents reads (the apps are built, never started)."""
    from processors.handoffs.agent import build_worker as handoffs_worker
    from bus.clock import SystemClock
    from processors.handoffs.config import load_handoffs_settings, load_policy
    from processors.identity.agent import IdentityProcessor
    from tests.processors.identity.support import settings as identity_settings
    from processors.kpis.agent import build_worker as kpis_worker
    from processors.kpis.config import KpisSettings
    from processors.offers.agent import build_worker as offers_worker
    from processors.offers.config import OffersSettings

    handoffs = load_handoffs_settings()
    apps = {
        "identity": IdentityProcessor(settings, identity_settings()).app,
        "handoffs": handoffs_worker(settings, handoffs, load_policy(handoffs.policy_file), SystemClock()).app,
        "kpis": kpis_worker(settings, KpisSettings(), SystemClock()).app,
        "offers": offers_worker(settings, OffersSettings()).app,
    }
    assert set(apps) == set(PROCESSORS)
    return {name: {topic for agent in app.agents.values() for topic in agent.channel.topics}
            for name, app in apps.items()}


def poison_values(valid: bytes, settings: OmnibusSettings) -> dict[str, bytes]:
    """The kinds of poison, from a valid single-object-encoded event ``valid``."""
    serializer, _ = build_serde(settings.registry)
    stranger = dead_letter_event(RawRecord(value=b"x", topic="elsewhere"), reason="r", error_type="E", component="c")
    return {
        "random bytes": os.urandom(64),
        "truncated Avro": valid[: len(valid) // 2],
        "unknown fingerprint": valid[:2] + bytes(8) + valid[10:],
        "wrong record type": serializer(stranger, SerdeContext(topic="elsewhere")),
        "900 KB value": valid[:10] + os.urandom(900_000),
    }


async def produce(bootstrap_servers: str, records: list[tuple[str, bytes | None, bytes]]) -> list[tuple[str, int]]:
    """Write ``(topic, key, value)`` to partition 0 of each topic, in order; their (topic, offset)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", max_request_size=2 * 1024 * 1024)
    await producer.start()
    try:
        written = []
        for topic, key, value in records:
            meta = await producer.send_and_wait(topic, value, key=key, partition=0)
            written.append((topic, meta.offset))
        return written
    finally:
        await producer.stop()


@pytest.mark.timeout(900)
async def test_poison_on_every_input_of_every_processor_is_dead_lettered_and_nothing_stops(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    with stack(tmp_path, bootstrap_servers=bootstrap_servers) as running:
        settings = running.settings()
        inputs = agent_inputs(settings)
        readers = {topic: {name for name, topics in inputs.items() if topic in topics}
                   for topics in inputs.values() for topic in topics}
        procs = {name: running.processor(name) for name in PROCESSORS}
        serializer, _ = build_serde(settings.registry)
        topic = {spec: spec.name(settings.topics)
                 for spec in (IDENTIFIERS_OBSERVED, CONTACT_EVENTS, HANDOFF_EVENTS, CUSTOMER_CONTACTS)}
        tag = uuid.uuid4().hex[:6]

        def encoded(spec: object, event: Event) -> tuple[str, bytes, bytes]:
            name = topic[spec]  # type: ignore[index]
            return name, b"valid", serializer(event, SerdeContext(topic=name))

        before = [encoded(IDENTIFIERS_OBSERVED, observed([("EMAIL", f"before-{tag}@example.org")])),
                  encoded(CONTACT_EVENTS, interaction([("EMAIL", f"before-{tag}@example.org")])),
                  encoded(HANDOFF_EVENTS, created(f"H-before-{tag}"))]
        after = [encoded(IDENTIFIERS_OBSERVED, observed([("EMAIL", f"after-{tag}@example.org")])),
                 encoded(CONTACT_EVENTS, interaction([("EMAIL", f"after-{tag}@example.org")])),
                 encoded(HANDOFF_EVENTS, created(f"H-after-{tag}"))]
        valid = before[1][2]
        await running.joined(procs)  # the poison lands while all four run (it is read either way: earliest offsets)
        await produce(bootstrap_servers, [(name, key, value) for name, key, value in before])
        poison: list[tuple[str, str, int, bytes]] = []  # (kind, topic, offset, value)
        for name in sorted(readers):
            kinds = poison_values(valid, settings)
            offsets = await produce(bootstrap_servers, [(name, POISON_KEY, value) for value in kinds.values()])
            poison += [(kind, name, offset, value)
                       for (kind, value), (_, offset) in zip(kinds.items(), offsets, strict=True)]
            offset = await send_with_header_key(bootstrap_servers, name, 0, POISON_KEY, valid, b"\xff\xfe")
            poison.append(("header key FF FE", name, offset, valid))
        await produce(bootstrap_servers, [(name, key, value) for name, key, value in after])
        began = time.monotonic()
        lags: dict[str, dict[TopicPartition, int]] = {}
        while time.monotonic() - began < 300:
            stopped = [name for name, proc in procs.items() if not proc.alive()]
            assert not stopped, "\n".join(f"{name} stopped:\n{procs[name].tail()}" for name in stopped)
            lags = {name: await uncommitted(bootstrap_servers, running.group(name), inputs[name])
                    for name in PROCESSORS}
            if not any(lags.values()):
                break
            await asyncio.sleep(3)
        recovered_s = time.monotonic() - began
        letters = await read_dead_letters(settings)
        owners = await assignments(settings)
        statuses = [e.event.value["handoff_id"]
                    for e in await read_events(settings, HANDOFF_EVENTS, skip_poison=True)
                    if e.event.schema == "omnibus.handoff.HandoffStatusChanged"]
        contacts = [e.event.value.get("customer_identifiers")
                    for e in await read_events(settings, CUSTOMER_CONTACTS, skip_poison=True)]
        alive = {name: proc.alive() for name, proc in procs.items()}
    found = {(letter["source_component"], letter["source_topic"], letter["source_offset"]): letter
             for letter in letters if letter["source_partition"] == 0}
    expected = {(component, name, offset): (kind, value) for kind, name, offset, value in poison
                for component in readers[name]}
    missing = {key: kind for key, (kind, _) in expected.items() if key not in found}
    wrong_bytes = [key for key, (_, value) in expected.items() if key in found and found[key]["value"] != value]
    per_kind: dict[str, int] = {}
    for kind, *_ in poison:
        per_kind[kind] = per_kind.get(kind, 0) + 1
    record_fault("poison-every-input", (
        "## Poison into every input topic of every processor\n\n"
        "`pytest tests/faults/test_poison_inputs.py` — identity, handoffs, kpis, offers as processes "
        f"(`omnibus <processor> run`), 2 partitions; {machine()}.\n\n"
        f"Topics poisoned (every faust agent's inputs): {len(readers)}; poison records: {len(poison)} "
        f"({', '.join(f'{kind} {count}' for kind, count in per_kind.items())}); dead letters expected "
        f"(one per reading processor): {len(expected)}.\n\n"
        "| dead-lettered | missing | wrong bytes | workers stopped | partitions left uncommitted | "
        "time to commit to the end |\n|---|---|---|---|---|---|\n"
        f"| {len(expected) - len(missing)} | {len(missing)} | {len(wrong_bytes)} | "
        f"{sum(not a for a in alive.values())} | {sum(len(lag) for lag in lags.values())} | {recovered_s:.0f} s |\n"
        + (f"\nMissing: {sorted(missing.items())[:20]}\n" if missing else "")))
    assert all(alive.values()), alive
    assert not missing, sorted(missing.items())
    assert not wrong_bytes, wrong_bytes
    assert not any(lags.values()), lags
    assert {f"EMAIL:before-{tag}@example.org", f"EMAIL:after-{tag}@example.org"} <= set(owners)
    assert {f"H-before-{tag}", f"H-after-{tag}"} <= set(statuses)
    assert sum(1 for ids in contacts if ids and any(tag in i["value"] for i in ids)) >= 2

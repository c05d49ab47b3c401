"""Mechanics of the identity benchmark: worker processes, their CPU (from /proc), loading input, and
reading when each input event came out (Kafka record timestamps, so the bench never sits in the loop).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from bus.config import OmnibusSettings
from bus.producer import EventProducer, Outgoing
from bus.serde import Event, SerdeContext, build_serde
from bus.topics import CUSTOMER_CONTACTS
from tests.bench.identity_worker import PASS_THROUGH, SINK
from tests.bench.identity_workload import CONTACTS
from tests.support.kafka_io import read_raw

Item = tuple[str, str, Event]  # (topic suffix, key, event)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CONTACT = "omnibus.contact.InteractionRecorded"


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads), from ``/proc/<pid>/stat``."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15 of stat)


@dataclass
class Workers:
    """``count`` worker processes of one kind (``tests.bench.identity_worker``), sampled for CPU every 50 ms."""

    kind: str
    count: int
    settings: OmnibusSettings
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)  # e.g. BENCH_APP (identity_worker): for these workers only
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    samples: list[tuple[float, float]] = field(default_factory=list)  # (epoch s, CPU s of all workers)
    _sampler: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Workers:
        env = {**os.environ, **self.env, "PYTHONPATH": os.getcwd()}
        for index in range(self.count):
            datadir = self.workdir / f"{self.kind}-{self.settings.topics.prefix}-{index}"
            log = open(self.workdir / f"{datadir.name}.log", "wb")  # noqa: SIM115 - lives as long as the process
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "tests.bench.identity_worker", self.kind, "--bootstrap-servers",
                 self.settings.kafka.bootstrap_servers, "--prefix", self.settings.topics.prefix, "--partitions",
                 str(self.settings.topics.partitions), "--datadir", str(datadir),
                 "--log-level", os.environ.get("BENCH_WORKER_LOG", "WARNING")], stdout=log, stderr=log, env=env))
        self._sampler = asyncio.create_task(self._sample())
        return self

    async def _sample(self) -> None:
        while True:
            self.samples.append((time.time(), sum(process_cpu_s(p.pid) for p in self.processes)))
            await asyncio.sleep(0.05)

    def cpu_between(self, start: float, end: float) -> float:
        """CPU seconds the workers used between two epoch instants (linear between samples)."""
        return _interpolate(self.samples, end) - _interpolate(self.samples, start)

    def check_alive(self) -> None:
        for index, process in enumerate(self.processes):
            if process.poll() is not None:
                log = self.workdir / f"{self.kind}-{self.settings.topics.prefix}-{index}.log"
                tail = log.read_text(errors="replace").splitlines()[-30:]
                raise RuntimeError(f"a {self.kind} worker exited with {process.returncode}:\n" + "\n".join(tail))

    async def __aexit__(self, *exc: Any) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                await asyncio.to_thread(process.wait, 60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _interpolate(samples: Sequence[tuple[float, float]], at: float) -> float:
    if not samples:
        return 0.0
    if at <= samples[0][0]:
        return samples[0][1]
    for (t0, c0), (t1, c1) in zip(samples, samples[1:], strict=False):
        if t0 <= at <= t1:
            return c0 + (c1 - c0) * (at - t0) / (t1 - t0 or 1)
    return samples[-1][1]


async def load(settings: OmnibusSettings, items: Sequence[Item], chunk: int = 2000) -> None:
    serializer, _ = build_serde(settings.registry)
    async with EventProducer(settings, serializer) as producer:
        for start in range(0, len(items), chunk):
            await producer.publish_many([Outgoing(f"{settings.topics.prefix}.{suffix}", key, event)
                                         for suffix, key, event in items[start:start + chunk]])


async def load_paced(settings: OmnibusSettings, items: Sequence[Item], rate: float) -> None:
    """Publish ``items`` at ``rate`` events/s (small chunks every 10 ms, on an absolute schedule)."""
    serializer, _ = build_serde(settings.registry)
    async with EventProducer(settings, serializer) as producer:
        started, sent = time.monotonic(), 0
        while sent < len(items):
            due = min(len(items), int((time.monotonic() - started) * rate) + 1)
            if due > sent:
                await producer.publish_many([Outgoing(f"{settings.topics.prefix}.{suffix}", key, event)
                                             for suffix, key, event in items[sent:due]])
                sent = due
            await asyncio.sleep(0.01)


def output_topic(kind: str, settings: OmnibusSettings) -> str:
    return (SINK if kind in PASS_THROUGH else CUSTOMER_CONTACTS).name(settings.topics)


async def wait_for_records(settings: OmnibusSettings, topic: str, wanted: int, workers: Workers,
                           timeout_s: float) -> None:
    """Until ``topic`` holds ``wanted`` records (end offsets, polled every 0.25 s)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka.bootstrap_servers, group_id=None)
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout_s
        partitions: list[TopicPartition] = []
        while True:
            workers.check_alive()
            if not partitions:
                await consumer._client.force_metadata_update()  # noqa: SLF001 - topics created a moment ago
                partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
            have = sum((await consumer.end_offsets(partitions)).values()) if partitions else 0
            if have >= wanted:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{have} of {wanted} records on {topic.split('.', 1)[1]} after {timeout_s:.0f} s")
            await asyncio.sleep(0.25)
    finally:
        await consumer.stop()


async def end_offsets(settings: OmnibusSettings, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    """The end offset of each partition (the offset the next record will get)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka.bootstrap_servers, group_id=None)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def out_times(settings: OmnibusSettings, kind: str, by_event: bool = False) -> dict[str, float]:
    """``{event id or record index: epoch s}`` of every output record (contacts only, for the resolvers);
    ``by_event``: a pass-through's records by the event id of the bytes it forwarded (the first one out)."""
    topic = output_topic(kind, settings)
    records = await read_raw(settings.kafka.bootstrap_servers, topic, timeout_s=60)
    if kind in PASS_THROUGH and not by_event:
        return {f"{r.partition}:{r.offset}": r.timestamp / 1000 for r in records}
    _, deserializer = build_serde(settings.registry)
    times: dict[str, float] = {}
    for record in records:
        event = deserializer(record.value, SerdeContext(topic=topic))
        if event.schema == CONTACT:
            times.setdefault(event.value["envelope"]["event_id"], record.timestamp / 1000)
    return times


async def in_times(settings: OmnibusSettings, topic_suffix: str) -> dict[str, float]:
    """``{event id: epoch s}`` of the input records (when the loader sent them)."""
    topic = f"{settings.topics.prefix}.{topic_suffix}"
    _, deserializer = build_serde(settings.registry)
    return {deserializer(r.value, SerdeContext(topic=topic)).value["envelope"]["event_id"]: r.timestamp / 1000
            for r in await read_raw(settings.kafka.bootstrap_servers, topic, timeout_s=60)}


async def wait_for_group(settings: OmnibusSettings, group: str, members: int, workers: Workers,
                         timeout_s: float = 120.0) -> None:
    """Until consumer group ``group`` is Stable with ``members`` members."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    await admin.start()
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            workers.check_alive()
            try:
                (response,) = await admin.describe_consumer_groups([group])
                _, _, state, _, _, found, *_ = response.groups[0]
            except KafkaError:  # the coordinator of a group not formed yet
                state, found = "unknown", []
            if state == "Stable" and len(found) == members:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"group {group} is {state} with {len(found)} members, not {members}")
            await asyncio.sleep(0.25)
    finally:
        await admin.close()


async def stalled_partitions(settings: OmnibusSettings, kind: str) -> str:
    """Which input partitions the group of ``kind`` never committed, and the group's state: a stall's trace."""
    topic, group = f"{settings.topics.prefix}.{CONTACTS}", f"{settings.topics.prefix}.{kind}"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka.bootstrap_servers, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.topics.partitions)]
        ends = await consumer.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(group)
        (response,) = await admin.describe_consumer_groups([group])
        behind = [f"{tp.partition} ({committed[tp].offset if tp in committed else 'none'} of {ends[tp]})"
                  for tp in partitions if tp not in committed or committed[tp].offset < ends[tp]]
        return (f"group {response.groups[0][2]} with {len(response.groups[0][5])} members; input partitions "
                f"behind (committed of end): {', '.join(behind) or 'none'}")
    finally:
        await consumer.stop()
        await admin.close()

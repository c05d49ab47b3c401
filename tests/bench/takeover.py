"""Takeover benchmark (#13 build 3): how long a worker needs to take over identity partitions, and where it goes.

    .venv/bin/python -m tests.bench.takeover --events 300 1200 [--output FILE]

For each ``--events`` size and each changelog compaction setting (``VARIANTS``: the broker's defaults, as
before #13's compaction settings, and the project's settings scaled down from hours to seconds so that
the bench sees them act), on a real KRaft broker started here, with identity workers as real processes
(``tests.processors.identity.pause_worker``, 6 s session timeout):

1. worker A processes the events alone (its tables' changelogs grow with them), then idles
   ``SETTLE_S`` (the broker's log cleaner runs every 15 s);
2. **cold**: A is killed (``kill -9``); once it left the group a fresh worker B starts and restores every
   partition from the changelogs (memory store: nothing on disk);
3. **standby**: worker C joins B and gets standby replicas (faust ``table_standby_replicas`` = 1, its
   default) of B's partitions; after C caught up, B is killed: C takes over.

Per takeover: restore (assignment -> tables restored) and caught up (assignment -> lag 0), from the
workers' ``takeover restored`` / ``caught up`` log lines (``bus/takeover.py``), and the wall time from
the kill (or the start) to caught up, which adds the failure detection (the session timeout).
Prints the report; ``--output FILE`` also writes it to FILE (``tests.bench.output``): ``results/takeover.md`` keeps
the runs, each added by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from bus.config import OmnibusSettings
from bus.stack.kafka import KafkaBroker
from bus.topics import CONTACT_EVENTS, IDENTIFIERS_OBSERVED, IDENTITY_GRAPH
from tests.bench.output import add_output, write
from tests.processors.identity.broker import wait_until_quiet
from tests.processors.identity.pause_worker import SESSION_TIMEOUT_S
from tests.processors.identity.test_agent import publish, workload
from tests.support.fault_report import machine
from tests.support.settings import settings_with_topics

PARTITIONS = 4
INPUTS = [IDENTIFIERS_OBSERVED, CONTACT_EVENTS, IDENTITY_GRAPH]
SETTLE_S = 45.0
_SETTING = "OMNIBUS_TOPICS__CHANGELOG_"
VARIANTS = {  # environment of the workers, which create the changelog topics (bus.fenced_table.changelog_configs)
    "broker defaults": {f"{_SETTING}SEGMENT_MS": "604800000", f"{_SETTING}MIN_CLEANABLE_DIRTY_RATIO": "0.5",
                        f"{_SETTING}MAX_COMPACTION_LAG_MS": "9223372036854775807"},
    "compacted sooner": {f"{_SETTING}SEGMENT_MS": "2000", f"{_SETTING}MIN_CLEANABLE_DIRTY_RATIO": "0.1",
                         f"{_SETTING}MAX_COMPACTION_LAG_MS": "10000"},
}


class Worker:
    def __init__(self, settings: OmnibusSettings, directory: Path, name: str, env: dict[str, str]) -> None:
        self.log = directory / f"{name}.log"
        (directory / name).mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.processors.identity.pause_worker", settings.kafka.bootstrap_servers,
                 settings.topics.prefix, str(PARTITIONS), str(directory / name)],
                env=os.environ | env, stdout=out, stderr=subprocess.STDOUT)

    def lines(self, event: str) -> list[dict]:
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{") and f'"{event}"' in line:
                found.append(json.loads(line))
        return found

    async def caught_up_after(self, seen: int, timeout_s: float = 300.0) -> dict:
        """The first ``takeover caught up`` line after the ``seen`` first ones."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.lines("takeover caught up")
            if len(found) > seen:
                return found[seen]
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{self.log.name} did not catch up within {timeout_s} s")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)


async def changelog_records(settings: OmnibusSettings) -> tuple[int, int]:
    """(records written to the identity tables' changelogs, records left in them: what a restore reads)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka.bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        names = [f"{settings.topics.prefix}.identity-identity-{table}-changelog" for table in ("nodes", "profiles")]
        tps = [TopicPartition(name, p) for name in names for p in range(PARTITIONS)]
        ends = await consumer.end_offsets(tps)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        left, remaining = 0, {tp for tp in tps if ends[tp] > 0}
        while remaining:
            for tp, records in (await consumer.getmany(*remaining, timeout_ms=5000)).items():
                left += sum(1 for r in records if r.offset < ends[tp])
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return sum(ends.values()), left
    finally:
        await consumer.stop()


async def one_size(bootstrap: str, events: int, directory: Path, variant: str) -> dict:
    settings = await settings_with_topics(bootstrap, partitions=PARTITIONS)
    group = f"{settings.topics.prefix}.identity"
    env = VARIANTS[variant]
    a = Worker(settings, directory, "a", env)
    await a.caught_up_after(0)
    started = time.monotonic()
    await publish(settings, workload(size=events, universe=max(events // 4, 20), seed=events))
    await wait_until_quiet(settings, INPUTS, group, timeout_s=1800, quiet_s=3)
    processing_s = time.monotonic() - started
    await asyncio.sleep(SETTLE_S)
    written, left = await changelog_records(settings)
    row: dict = {"events": events, "variant": variant, "processing_s": processing_s, "changelog": written,
                 "left": left}
    a.kill()
    await asyncio.sleep(SESSION_TIMEOUT_S + 2)  # A has left the group: B gets every partition at once
    born = time.monotonic()
    b = Worker(settings, directory, "b", env)
    cold = await b.caught_up_after(0)
    row["cold"] = (cold["restore_s"], cold["catch_up_s"], time.monotonic() - born)
    c = Worker(settings, directory, "c", env)
    await c.caught_up_after(0)
    await asyncio.sleep(5)  # C's standbys follow B's changelogs
    seen = len(c.lines("takeover caught up"))
    b.kill()
    killed = time.monotonic()
    warm = await c.caught_up_after(seen)
    row["standby"] = (warm["restore_s"], warm["catch_up_s"], time.monotonic() - killed)
    c.stop()
    return row


async def main(sizes: list[int], output: Path | None = None) -> str:
    """The report of a run at each of ``sizes`` (events), also written to ``output`` when one is named."""
    with tempfile.TemporaryDirectory() as tmp:
        broker = KafkaBroker(Path(tmp) / "stack")
        broker.start()
        try:
            rows = [await one_size(broker.bootstrap_servers, n, Path(tmp) / f"n{n}-{i}", variant)
                    for n in sizes for i, variant in enumerate(VARIANTS)]
        finally:
            broker.stop()
    lines = [
        "# Takeover (#13 build 3)\n",
        f"Command: `.venv/bin/python -m tests.bench.takeover --events {' '.join(map(str, sizes))}`. "
        f"Machine: {machine()} (CPUs shared with other work).\n",
        "Changelog compaction: *broker defaults* = `segment.ms` 7 days, `min.cleanable.dirty.ratio` 0.5, no "
        "`max.compaction.lag.ms` (what faust created before); *compacted sooner* = the project's settings "
        "(`TopicSettings.changelog_*`: 1 h, 0.1, 6 h) scaled to the bench: 2 s, 0.1, 10 s. Each run idles "
        f"{SETTLE_S:.0f} s after processing; *left* = changelog records a restore reads then.\n",
        "Identity workers as processes (6 s session timeout), 4 partitions, memory tables. Seconds; restore and "
        "caught up are from the partition assignment (`bus/takeover.py`); cold *from start* is wall time from "
        "starting the fresh worker (process start, join, restore, catch up); standby *from kill* is wall time "
        "from the `kill -9` of the active worker to caught up (adds failure detection: the session timeout).\n",
        "| events | changelogs | processing s (1 worker) | changelog records written | left | cold: restore "
        "| cold: caught up | cold: from start | standby: restore | standby: caught up | standby: from kill |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row['events']} | {row['variant']} | {row['processing_s']:.1f} | {row['changelog']} | "
                     f"{row['left']} | "
                     + " | ".join(f"{v:.2f}" for v in (*row["cold"], *row["standby"])) + " |")
    return write("\n".join(lines) + "\n", output)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[300, 1200])
    add_output(parser)
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    print(asyncio.run(main(args.events, args.output)))

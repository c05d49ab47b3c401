"""#13 build 5, worker faults: identity workers as real processes, killed with ``kill -9`` three times, and
rebalanced three times by adding and removing workers, while events merge customers. After each run the
verifier (``processors.verify``) must find 0 lost, 0 conflicting effects and 0 stale rows; no partition
may stay uncommitted for a minute; the figures go to ``tests/bench/results/faults.md``.

The worker process is the pause test's (``tests.processors.identity.pause_worker``: 6 s session timeout,
the broker's minimum, so a killed worker's partitions move after seconds). Each fault waits until the group has
settled from the one before (``until_ready``). Takeover times come from the workers' own ``takeover restored`` /
``takeover caught up`` log lines (``bus/takeover.py``).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bus.config import OmnibusSettings
from bus.topics import CONTACT_EVENTS, IDENTIFIERS_OBSERVED, IDENTITY_GRAPH
from processors.verify.report import Report
from processors.verify.run import averify
from tests.processors.identity.broker import wait_until_quiet
from tests.processors.identity.support import unlimited_settings
from tests.processors.identity.test_agent import publish, workload
from tests.support.commit_stall import CommitMonitor
from tests.support.fault_report import machine, record_fault
from tests.support.groups import until_stable
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
PARTITIONS = 4
INPUTS = [IDENTIFIERS_OBSERVED, CONTACT_EVENTS, IDENTITY_GRAPH]
FIELD = re.compile(r'"?(restore_s|catch_up_s)"?[=:]\s*([0-9.]+)')  # console (key=value) or JSON log lines
READY_WITHIN_S = 180.0  # a loaded 2-core CI machine (a worker took > 12 s to join at load 41)
READY = "Worker ready"  # faust's Recovery logs it once the worker joined the group and restored its tables


def identity_group(settings: OmnibusSettings) -> str:
    """The identity workers' consumer group (faust's app id, ``bus.app.create_app``)."""
    return f"{settings.topics.prefix}.identity"


async def until_ready(logs: list[Path], settings: OmnibusSettings, members: int,
                      within_s: float = READY_WITHIN_S) -> None:
    """Until every worker of ``logs`` has joined the group and restored (faust's "Worker ready" in its log) and the
    identity group is Stable with exactly ``members`` members: a killed worker's session has expired, a stopped
    one has left, and the rebalance is over. AssertionError or TimeoutError after ``within_s``. (Was: a fixed
    12-15 s at least; the group's own state says when it has settled.)"""
    deadline = time.monotonic() + within_s
    while waiting := [log for log in logs if READY not in log.read_text(errors="replace")]:
        if time.monotonic() > deadline:
            tails = "\n".join(f"{log.name}: {log.read_text(errors='replace')[-2000:]}" for log in waiting)
            raise AssertionError(f"workers not ready within {within_s:.0f} s:\n{tails}")
        await asyncio.sleep(0.5)
    await until_stable(settings.kafka.bootstrap_servers, identity_group(settings), members,
                       within_s=max(deadline - time.monotonic(), 1.0))


@dataclass
class Workers:
    """Identity worker processes of one group, each with its log file."""

    settings: OmnibusSettings
    tmp: Path
    running: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: list[Path] = field(default_factory=list)

    def start(self) -> int:
        number = len(self.logs)
        log = self.tmp / f"worker-{number}.log"
        datadir = self.tmp / f"w{number}"
        datadir.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            self.running[number] = subprocess.Popen(
                [sys.executable, "-m", "tests.processors.identity.pause_worker", self.settings.kafka.bootstrap_servers,
                 self.settings.topics.prefix, str(PARTITIONS), str(datadir)],
                env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT)
        self.logs.append(log)
        return number

    async def ready(self, *numbers: int) -> None:
        """Until workers ``numbers`` restored their tables and every running worker is a member of the settled
        group (``until_ready``)."""
        await until_ready([self.logs[number] for number in numbers], self.settings, len(self.running))

    def kill(self, number: int) -> None:
        """``kill -9``: no shutdown, no last commit, no leaving the group."""
        process = self.running.pop(number)
        process.kill()
        process.wait(timeout=30)

    def stop(self, number: int) -> None:
        process = self.running.pop(number)
        process.terminate()
        process.wait(timeout=60)

    def stop_all(self) -> None:
        for number in list(self.running):
            self.stop(number)

    def takeovers(self) -> tuple[list[float], list[float]]:
        return takeovers_in(self.logs)


def takeovers_in(logs: list[Path]) -> tuple[list[float], list[float]]:
    """(restore seconds of every takeover, catch-up seconds of those that reached lag 0 before the next
    rebalance), from the workers' ``takeover restored`` / ``takeover caught up`` log lines."""
    restore, catch_up = [], []
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            fields = dict(FIELD.findall(line))
            if "takeover restored" in line:
                restore.append(float(fields["restore_s"]))
            elif "takeover caught up" in line:
                catch_up.append(float(fields["catch_up_s"]))
    return restore, catch_up


async def verified(settings: OmnibusSettings) -> Report:
    report = await averify(settings, processors=("identity",), identity=unlimited_settings())
    print("\n".join(report.lines()))
    return report


def figures(name: str, what: str, report: Report, faults: int, stall_s: float,
            takeovers: tuple[list[float], list[float]], seconds: float,
            test: str = "tests/faults/test_workers.py", note: str = "") -> None:
    restore, catch_up = takeovers
    f = report.figures
    record_fault(name, (
        f"## {name}: {what}\n\n"
        f"Test `{test}`, {machine()}, {seconds:.0f} s.\n\n"
        "| events | faults injected | lost | duplicates (same event id) | conflicting | stale rows "
        "| max commit stall | takeovers | restore s (max) | caught up s (max) |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
        f"| {f.get('events', 0)} | {faults} | {f.get('lost', 0)} | {f.get('duplicates', 0)} | "
        f"{f.get('conflicting', 0)} | {f.get('stale rows', 0)} | {stall_s:.1f} s | {len(restore)} | "
        f"{max(restore, default=0):.2f} | {max(catch_up, default=0):.2f} |\n\n"
        "Takeover, seconds from the partition assignment (`bus/takeover.py`, every worker's every rebalance, "
        "start-up included): restored " + ", ".join(f"{r:.2f}" for r in restore)
        + "; caught up (lag 0 before the next rebalance) " + ", ".join(f"{c:.2f}" for c in catch_up) + ".\n"
        "Max commit stall: longest time a partition's committed offset stood still with records beyond it, "
        "polled from outside every second (`tests/support/commit_stall.py`).\n\n"
        f"Verifier: {'all checks hold' if report.ok else 'FAILED: ' + '; '.join(report.failures()[:5])}.\n" + note))


def assert_clean(report: Report, stall_s: float) -> None:
    assert report.ok, "\n".join(report.lines())
    assert report.figures["lost"] == 0 and report.figures["conflicting"] == 0 and report.figures["stale rows"] == 0
    assert stall_s < 60.0


@pytest.mark.timeout(600)
async def test_a_worker_killed_three_times_loses_nothing(bootstrap_servers: str, tmp_path: Path) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=PARTITIONS)
    items = workload(size=800, universe=200, seed=31)
    chunks = [items[i::4] for i in range(4)]
    workers = Workers(settings, tmp_path)
    started = time.monotonic()
    try:
        async with CommitMonitor(settings, INPUTS, identity_group(settings)) as monitor:
            victims = [workers.start(), workers.start()]
            await workers.ready(*victims)
            for chunk in chunks[:3]:
                await publish(settings, chunk)
                await asyncio.sleep(1.5)  # the victim is in the middle of its batches
                workers.kill(victims.pop(0))
                victims.append(workers.start())
                await workers.ready(victims[-1])  # a member, the victim's session over, before the next victim goes
            await publish(settings, chunks[3])
            await wait_until_quiet(settings, INPUTS, identity_group(settings), timeout_s=240, quiet_s=5)
            await asyncio.sleep(2 * monitor.interval_s)
    finally:
        workers.stop_all()
    report = await verified(settings)
    figures("worker-kill", "`kill -9` of an identity worker three times during a run (2 workers, 4 partitions)",
            report, 3, monitor.max_stall_s, workers.takeovers(), time.monotonic() - started)
    assert report.figures["events"] == len(items)
    assert_clean(report, monitor.max_stall_s)


@pytest.mark.timeout(600)
async def test_three_rebalances_by_adding_and_removing_workers_lose_nothing(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=PARTITIONS)
    items = workload(size=800, universe=200, seed=37)
    chunks = [items[i::4] for i in range(4)]
    workers = Workers(settings, tmp_path)
    started = time.monotonic()
    try:
        async with CommitMonitor(settings, INPUTS, identity_group(settings)) as monitor:
            first = workers.start()
            await workers.ready(first)
            changes = [workers.start, workers.start, lambda: workers.stop(first)]  # add, add, remove
            for chunk, change in zip(chunks, changes, strict=False):
                await publish(settings, chunk)
                await asyncio.sleep(1.5)
                added = change()
                await workers.ready(*([] if added is None else [added]))  # the group settled before the next change
            await publish(settings, chunks[3])
            await wait_until_quiet(settings, INPUTS, identity_group(settings), timeout_s=240, quiet_s=5)
            await asyncio.sleep(2 * monitor.interval_s)
    finally:
        workers.stop_all()
    report = await verified(settings)
    figures("worker-rebalance", "three rebalances: a worker added, another added, the first removed (4 partitions)",
            report, 3, monitor.max_stall_s, workers.takeovers(), time.monotonic() - started)
    assert report.figures["events"] == len(items)
    assert_clean(report, monitor.max_stall_s)

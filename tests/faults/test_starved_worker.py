"""An identity worker starved of CPU past its session timeout rejoins its group and goes on.

CI once saw ``omnibus identity run`` exit 1 while 50 counter agents starved 2 cores (its crash line was cut from the
report). One way a starved worker exits 1: a commit the main loop had prepared reaches the consumer thread after a
rebalance took every partition it named (``bus.commit_assigned``). Here the starvation is ``SIGSTOP`` for longer
than the session timeout (``bus.takeover.SESSION_TIMEOUT_S``: its partitions move to the other worker), then
``SIGCONT``, once for each of two workers while events flow: both must still run, every event must be processed
(``omnibus verify``: nothing lost, nothing conflicting) and the group must have committed to the end of its inputs.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from bus.takeover import SESSION_TIMEOUT_S
from bus.topics import CONTACT_EVENTS, IDENTIFIERS_OBSERVED, IDENTITY_GRAPH
from processors.identity.config import IdentitySettings
from processors.verify.run import averify
from tests.faults.stack import Proc, Stack, stack
from tests.processors.identity.broker import wait_until_quiet
from tests.processors.identity.support import unlimited_settings
from tests.processors.identity.test_agent import publish, workload
from tests.support.groups import until_stable

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
INPUTS = [IDENTIFIERS_OBSERVED, CONTACT_EVENTS, IDENTITY_GRAPH]
STOPPED_S = SESSION_TIMEOUT_S + 4.0  # the broker has ended the session (it checks about every 3 s) before SIGCONT
PAUSES = 2  # one pause of each worker (alternating); each pause costs a rebalance and a session timeout
# The workload's settings (every link merges, no limit per customer): the outcome does not depend on the order the
# events were processed in, so the verifier's recomputation can compare it after records were read again.
ORDER_FREE = (
    "default_region",
    "match_merge_at",
    "match_refuse_below",
    "match_vetoes",
    "match_person_fields",
    "max_per_customer",
    "shared_after",
)


def worker(running: Stack, name: str) -> Proc:
    """``omnibus identity run`` as one more worker of the identity group, with its own faust data."""
    (running.root / f"{name}-tmp").mkdir()
    return running.start(
        name,
        ["identity", "run"],
        # INFO: a commit dropped for partitions that moved says so (bus.commit_assigned)
        env={
            "TMPDIR": str(running.root / f"{name}-tmp"),
            "OMNIBUS_LOG__LEVEL": "INFO",
            **identity_env(unlimited_settings()),
        },
    )


def identity_env(settings: IdentitySettings) -> dict[str, str]:
    """``settings``' order-free fields as ``omnibus identity run`` reads them from its environment."""
    dumped = settings.model_dump(mode="json", include=set(ORDER_FREE))
    return {
        f"OMNIBUS_PROCESSOR_IDENTITY__{name.upper()}": value if isinstance(value, str) else json.dumps(value)
        for name, value in dumped.items()
    }


@pytest.mark.timeout(480)
async def test_identity_workers_stopped_past_their_session_rejoin_and_lose_nothing(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    items = workload(size=600, universe=150, seed=70)
    chunks = [items[i :: PAUSES + 1] for i in range(PAUSES + 1)]
    with stack(tmp_path, partitions=4, bootstrap_servers=bootstrap_servers) as running:
        settings = running.settings()
        workers = [worker(running, name) for name in ("identity-a", "identity-b")]
        group = running.group("identity")

        def alive() -> None:
            for proc in workers:
                assert proc.alive(), f"{proc.name} exited:\n{proc.tail()}"

        await until_stable(running.bootstrap_servers, group, len(workers), within_s=180, check=alive)
        for number, chunk in enumerate(chunks[:PAUSES]):
            stopped = workers[number % len(workers)]
            await publish(settings, chunk)
            await asyncio.sleep(1.0)  # in the middle of its batches and commits
            os.kill(stopped.popen.pid, signal.SIGSTOP)
            try:
                await asyncio.sleep(STOPPED_S)  # its partitions have moved to the other worker
            finally:
                os.kill(stopped.popen.pid, signal.SIGCONT)
            await until_stable(running.bootstrap_servers, group, len(workers), within_s=180, check=alive)
        await publish(settings, chunks[PAUSES])
        await wait_until_quiet(settings, INPUTS, group, timeout_s=180, quiet_s=5)
        alive()
        report = await averify(settings, processors=("identity",), identity=unlimited_settings())
    print("\n".join(report.lines()))
    assert report.ok, "\n".join(report.lines())
    assert report.figures["events"] == len(items)
    assert report.figures["lost"] == 0 and report.figures["conflicting"] == 0

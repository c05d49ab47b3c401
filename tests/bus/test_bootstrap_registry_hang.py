"""Commands run while the schema registry hangs (accepts connections, never answers), then once it is healed.

A command does not wait for a registry forever: ``topics read`` ends after one client timeout
(``OMNIBUS_REGISTRY__TIMEOUT_S``) with one ``error:`` line and exit 69 (``bus.bootstrap``), as for a refusing
registry; an import retries like a broker outage and gives up after ``OMNIBUS_PRODUCER__GIVE_UP_AFTER_S`` with exit
69, nothing published. Healed, the same commands succeed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bus.bootstrap import KAFKA_UNAVAILABLE_EXIT
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import CONTACT_EVENTS
from tests.processors.kpis.factories import interaction
from tests.support.settings import settings_with_topics
from tests.support.stall_proxy import hanging_registry

pytestmark = [pytest.mark.kafka, pytest.mark.registry, pytest.mark.slow, pytest.mark.timeout(600)]
REPO = Path(__file__).resolve().parents[2]
OVERDUE = ("--layout", str(REPO / "docs/examples/layouts/overdue_layout.yaml"),
           str(REPO / "docs/examples/layouts/overdue.txt"))
TIMEOUT_S = 5.0  # the registry client's timeout the commands are given
GIVE_UP_S = 15.0


def _omnibus(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """``omnibus <args>`` (this checkout's code) to its end, and how many seconds it took."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "omnibus", *args], env={**os.environ, **env}, cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300, check=False)
    return done, time.monotonic() - started


async def test_commands_end_with_exit_69_within_a_bounded_time_while_the_registry_hangs(
        bootstrap_servers: str, tmp_path: Path) -> None:
    with hanging_registry(tmp_path / "registry") as (registry, proxy):
        config = await settings_with_topics(bootstrap_servers, partitions=1, registry={"url": registry.url})
        async with EventProducer(config, build_serde(config.registry)[0]) as producer:
            await producer.publish(Outgoing(CONTACT_EVENTS.name(config.topics), "c-1", interaction(datetime.now(UTC))))
        env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": config.topics.prefix,
               "OMNIBUS_TOPICS__PARTITIONS": "1", "OMNIBUS_REGISTRY__URL": proxy.url_of(registry.url),
               "OMNIBUS_REGISTRY__TIMEOUT_S": str(TIMEOUT_S), "OMNIBUS_PRODUCER__GIVE_UP_AFTER_S": str(GIVE_UP_S),
               "OMNIBUS_ADAPTER_LEGACY__STATE_DIR": str(tmp_path / "legacy"), "OMNIBUS_LOG__LEVEL": "WARNING",
               "OMNIBUS_METRICS__PORT": "0", "OMNIBUS_STACK_DIR": str(tmp_path / "no-stack")}

        proxy.stall()
        try:
            read, read_s = _omnibus(env, "topics", "read", CONTACT_EVENTS.suffix, "--last", "1")
            imported, import_s = _omnibus(env, "adapter", "legacy", "import-batch", *OVERDUE)
        finally:
            proxy.heal()
        print(f"hanging: topics read exit {read.returncode} in {read_s:.1f} s; import-batch exit "
              f"{imported.returncode} in {import_s:.1f} s")
        assert read.returncode == KAFKA_UNAVAILABLE_EXIT, read.stdout
        errors = [line for line in read.stdout.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "schema registry" in errors[0] and "Traceback" not in read.stdout, read.stdout
        assert read_s < TIMEOUT_S + 30, read_s  # one client timeout, plus the command's own start
        assert imported.returncode == KAFKA_UNAVAILABLE_EXIT, imported.stdout
        assert "0 events published" in imported.stdout and "schema registry" in imported.stdout, imported.stdout
        assert import_s < GIVE_UP_S + TIMEOUT_S + 30, import_s

        read, _ = _omnibus(env, "topics", "read", CONTACT_EVENTS.suffix, "--last", "1")
        imported, _ = _omnibus(env, "adapter", "legacy", "import-batch", *OVERDUE)
        assert read.returncode == 0 and '"c-1"' in read.stdout, read.stdout
        assert imported.returncode == 0 and "2 events published" in imported.stdout, imported.stdout

"""``omnibus kpis run`` as operators start it, with its schema registry stopped mid-stream and started again.

A registry restarted after the broker crashed the processors (exit 1) on the first record whose writer schema id they
had not cached, and on the first output whose schema they had to register. Here a real worker process has read a
contact (its schema id cached; too old to count, so nothing published and nothing registered yet); then the registry
stops, and contacts (a known schema) and a handoff (a schema the worker has not seen) arrive. The worker must wait:
``/ready`` answers 503 saying why, the process does not exit, nothing is dead-lettered; once the registry is back it
registers ``KpiAggregate`` and counts every contact and the handoff, and ``/ready`` is 200 again.
"""

from __future__ import annotations

import asyncio
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bus.app import PORT_CHOSEN_EVENT
from bus.metrics import LISTENING_EVENT
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topic_admin import apply_topics
from bus.topics import CONTACT_EVENTS, HANDOFF_EVENTS, KPI_AGGREGATES
from processors.kpis.agent import changelogs
from tests.bus.test_startup_watchdog import http_status
from tests.processors.kpis.factories import handoff, interaction
from tests.support.kafka_io import one_per_event_id, read_dead_letters, read_events
from tests.support.processes import assert_clean_exit, omnibus_command
from tests.support.registry import stoppable_registry
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.registry, pytest.mark.slow, pytest.mark.timeout(420)]
CONTACTS = 5
OUTAGE_S = 12.0  # how long the registry stays stopped once the worker waits for it


def _metric(metrics_port: int, name: str, having: str = "") -> float:
    """The sum of the samples of ``name`` whose line holds ``having`` (a label), as the worker serves them on /metrics;
    0 when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2) as response:  # noqa: S310
            text = response.read().decode()
    except OSError:
        return 0.0
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith((f"{name} ", f"{name}{{")) and having in line)


async def test_a_kpi_worker_waits_out_a_registry_stopped_mid_stream_and_loses_nothing(
        bootstrap_servers: str, tmp_path: Path) -> None:
    registry = stoppable_registry(tmp_path / "registry")  # comes back where the worker looks, with its schemas
    work = tmp_path / "work"
    work.mkdir()
    try:
        config = await settings_with_topics(bootstrap_servers, partitions=2, registry={"url": registry.url})
        await apply_topics(config, changelogs(config))
        env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": config.topics.prefix,
               "OMNIBUS_TOPICS__PARTITIONS": "2", "OMNIBUS_REGISTRY__URL": registry.url,
               "OMNIBUS_METRICS__PORT": "0", "OMNIBUS_PROCESSOR_KPIS__WEB_PORT": "0",  # bound by the worker
               "OMNIBUS_PROCESSOR_KPIS__TICK_INTERVAL_S": "1"}
        contacts, handoffs = CONTACT_EVENTS.name(config.topics), HANDOFF_EVENTS.name(config.topics)
        now = datetime.now(UTC)
        serializer, _ = build_serde(config.registry)
        with omnibus_command(["kpis", "run"], env, work) as worker:
            web_port, metrics_port = worker.port(PORT_CHOSEN_EVENT), worker.port(LISTENING_EVENT)
            ready_url = f"http://127.0.0.1:{web_port}/ready"
            async with EventProducer(config, serializer) as producer:
                # Once the clock ticks have closed windows on both partitions, a contact 30 days old is too late to
                # count: the worker decodes it (its schema id cached) and publishes nothing (KpiAggregate unregistered).
                await asyncio.to_thread(
                    worker.wait_for, lambda: _metric(metrics_port, "omnibus_tick_scans_total", 'outcome="scanned"') >= 4,
                    "the clock to tick on every partition", 180)
                await producer.publish(Outgoing(contacts, "c-old", interaction(now - timedelta(days=30))))
                created = handoff("HandoffCreated", "h-1", now, origin_site="paris")
                await producer.encode(Outgoing(handoffs, "h-1", created))  # registered here, never seen by the worker
                await asyncio.to_thread(
                    worker.wait_for, lambda: _metric(metrics_port, "omnibus_kpi_too_late_events_total") >= 1,
                    "the worker to decode the first contact, too late to count", 60)
                await asyncio.to_thread(worker.wait_for, lambda: (http_status(ready_url) or (0, {}))[0] == 200,
                                        "/ready 200 before the outage", 120)

                registry.stop()
                for number in range(CONTACTS):
                    await producer.publish(Outgoing(contacts, f"c-{number}", interaction(now, outcome="RESOLVED")))
                await producer.publish(Outgoing(handoffs, "h-1", created))

                waiting = await asyncio.to_thread(
                    worker.wait_for, lambda: (answer := http_status(ready_url)) and answer[0] == 503 and answer,
                    "/ready 503 while the registry is stopped", 60)
                assert "schema registry" in waiting[1]["reason"], waiting
                await asyncio.sleep(OUTAGE_S)
                assert worker.process.poll() is None, worker.process.returncode  # it waits; it never exits

            await asyncio.to_thread(registry.start)

            def counted() -> list | None:
                landed = one_per_event_id(asyncio.run(read_events(config, KPI_AGGREGATES)))
                day = [a.event.value for a in landed if a.event.value["granularity"] == "DAY"]
                done = (any(a["site"] == "paris" and a["channel"] == "CALL_CENTER" and a["contacts"] == CONTACTS
                            for a in day) and any(a["handoffs_created"] >= 1 for a in day))
                return day if done else None

            await asyncio.to_thread(worker.wait_for, counted, "every contact and the handoff counted", 180)
            await asyncio.to_thread(worker.wait_for, lambda: (http_status(ready_url) or (0, {}))[0] == 200,
                                    "/ready 200 once the registry is back", 120)
        assert_clean_exit(worker)
        assert await read_dead_letters(config) == []
        opened = [line for line in worker.lines if "schema registry does not answer" in line]
        closed = [line for line in worker.lines if "schema registry answers again" in line]
        assert len(opened) == 1 and len(closed) == 1, opened + closed
    finally:
        registry.stop()

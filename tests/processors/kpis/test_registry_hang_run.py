"""``omnibus kpis run`` with its schema registry hanging mid-stream (accepting connections, never answering), then
healed.

A registry that refuses is waited for (``test_registry_outage_run.py``). One that hangs fails a request only after
the client's timeout (``OMNIBUS_REGISTRY__TIMEOUT_S``, 10 s), as long as the worker's session timeout: a look-up made
on the event loop then stops its heartbeats and ``/live`` for that long. Here the worker has read a contact (its
schema id cached); then the registry hangs, and contacts and a handoff (a schema the worker has not seen) arrive.
Throughout the hang ``/live`` answers 200 whenever asked, also while ``/ready`` says 503 because the registry does
not answer, ``/kpis`` answers 200 saying the counts are held back and why, and the worker keeps its partitions (no
rebalance); once healed it counts every contact and the handoff once, nothing dead-lettered.

A blocked loop is found by what it costs, not by how fast a probe is answered: a look-up made on the loop would stop
the worker's heartbeats for the client's timeout, as long as its session timeout, and its group would rebalance
(``REBALANCED``). The test used to require each ``/live`` answer within 2 s: at load 15-24 on 2 cores two probes
right after the stall, while the worker handles the burst of records, took longer (on a commit before this change
too), and at load 6 the longest took 0.05 s. How fast a probe is answered under load is a speed target, which
belongs in a benchmark.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bus.app import PORT_CHOSEN_EVENT
from bus.metrics import LISTENING_EVENT
from bus.producer import EventProducer, Outgoing
from bus.readiness import HELD_BACK_HEADER
from bus.serde import build_serde
from bus.topic_admin import apply_topics
from bus.topics import CONTACT_EVENTS, HANDOFF_EVENTS, KPI_AGGREGATES
from processors.kpis.agent import changelogs
from tests.bus.test_startup_watchdog import http_status
from tests.processors.kpis.factories import handoff, interaction
from tests.processors.kpis.test_registry_outage_run import _metric
from tests.support.kafka_io import one_per_event_id, read_dead_letters, read_events
from tests.support.processes import assert_clean_exit, omnibus_command
from tests.support.settings import settings_with_topics
from tests.support.stall_proxy import hanging_registry

pytestmark = [pytest.mark.kafka, pytest.mark.registry, pytest.mark.slow, pytest.mark.timeout(480)]
CONTACTS = 5
HANG_S = 30.0  # how long the registry hangs once the worker waits for it: three client timeouts
# aiokafka's lines of a worker that lost its group membership (its first join revokes ``set()``: not one of them)
REBALANCED = ("Revoking previously assigned partitions {", "Heartbeat session expired", "because it is rebalancing")


PROBE_TIMEOUT_S = 60.0  # how long a probe waits for its answer: a bound on a test that fails, not a speed target


def _status(url: str) -> tuple[int, dict[str, Any]] | None:
    """(status, JSON body) of a GET answered within ``PROBE_TIMEOUT_S``, None when nothing answers."""
    return http_status(url, timeout_s=PROBE_TIMEOUT_S)


def _held_back(url: str) -> tuple[str | None, str | None]:
    """``GET /kpis``'s ``held_back`` and ``Omnibus-Held-Back`` header; it must answer 200."""
    with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S) as response:
        assert response.status == 200
        return json.loads(response.read())["held_back"], response.headers.get(HELD_BACK_HEADER)


async def test_a_kpi_worker_keeps_its_loop_and_partitions_through_a_hanging_registry_and_loses_nothing(
        bootstrap_servers: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with hanging_registry(tmp_path / "registry") as (registry, proxy):
        config = await settings_with_topics(bootstrap_servers, partitions=2, registry={"url": registry.url})
        await apply_topics(config, changelogs(config))
        env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": config.topics.prefix,
               "OMNIBUS_TOPICS__PARTITIONS": "2", "OMNIBUS_REGISTRY__URL": proxy.url_of(registry.url),
               "OMNIBUS_METRICS__PORT": "0", "OMNIBUS_PROCESSOR_KPIS__WEB_PORT": "0",  # bound by the worker
               "OMNIBUS_PROCESSOR_KPIS__TICK_INTERVAL_S": "1"}
        contacts, handoffs = CONTACT_EVENTS.name(config.topics), HANDOFF_EVENTS.name(config.topics)
        now = datetime.now(UTC)
        serializer, _ = build_serde(config.registry)  # the test writes through the registry itself
        with omnibus_command(["kpis", "run"], env, work) as worker:
            web_port, metrics_port = worker.port(PORT_CHOSEN_EVENT), worker.port(LISTENING_EVENT)
            ready_url, live_url = f"http://127.0.0.1:{web_port}/ready", f"http://127.0.0.1:{web_port}/live"
            kpis_url = f"http://127.0.0.1:{web_port}/kpis?granularity=DAY"
            async with EventProducer(config, serializer) as producer:
                scanned = 'outcome="scanned"'
                await asyncio.to_thread(
                    worker.wait_for, lambda: _metric(metrics_port, "omnibus_tick_scans_total", scanned) >= 4,
                    "the clock to tick on every partition", 180)
                await producer.publish(Outgoing(contacts, "c-old", interaction(now - timedelta(days=30))))
                created = handoff("HandoffCreated", "h-1", now, origin_site="paris")
                await producer.encode(Outgoing(handoffs, "h-1", created))  # registered here, never seen by the worker
                await asyncio.to_thread(
                    worker.wait_for, lambda: _metric(metrics_port, "omnibus_kpi_too_late_events_total") >= 1,
                    "the worker to decode the first contact, too late to count", 60)
                await asyncio.to_thread(worker.wait_for, lambda: (http_status(ready_url) or (0, {}))[0] == 200,
                                        "/ready 200 before the hang", 120)

                proxy.stall()
                hung_at = time.time()
                for number in range(CONTACTS):
                    await producer.publish(Outgoing(contacts, f"c-{number}", interaction(now, outcome="RESOLVED")))
                await producer.publish(Outgoing(handoffs, "h-1", created))
                lives: list[int | None] = []
                reasons: list[str] = []
                live_while_waiting = 0  # /live answers 200 after /ready said the worker waits for the registry
                held_back: list[tuple[str | None, str | None]] = []  # (the view's held_back, its header)
                deadline = time.monotonic() + HANG_S
                # the whole hang, and at least until /live answered while the worker waits for the registry
                while time.monotonic() < deadline or not live_while_waiting:
                    assert time.monotonic() < deadline + 4 * HANG_S, (lives, reasons)
                    live = await asyncio.to_thread(_status, live_url)
                    lives.append(live[0] if live else None)
                    live_while_waiting += bool(reasons) and lives[-1] == 200
                    ready = await asyncio.to_thread(_status, ready_url)
                    if ready and ready[0] == 503 and "schema registry" in str(ready[1].get("reason")):
                        reasons.append(str(ready[1].get("reason")))
                        held_back.append(await asyncio.to_thread(_held_back, kpis_url))
                    await asyncio.sleep(0.5)
                assert worker.process.poll() is None, worker.process.returncode
                print(f"/live during the hang: {len(lives)} probes, {live_while_waiting} answered while /ready said "
                      f"the worker waits for the registry")
                assert set(lives) == {200}, lives  # answered each time, and live
                assert any("schema registry" in reason for reason in reasons), reasons
                # the view answers from what it holds, and says that records wait (it answered 200 with nothing said)
                assert held_back and all(header == "true" and text and "schema registry" in text
                                         for text, header in held_back), held_back

            proxy.heal()
            healed_at = time.time()

            def counted() -> list | None:
                landed = one_per_event_id(asyncio.run(read_events(config, KPI_AGGREGATES)))
                day = [a.event.value for a in landed if a.event.value["granularity"] == "DAY"]
                done = (any(a["site"] == "paris" and a["channel"] == "CALL_CENTER" and a["contacts"] == CONTACTS
                            for a in day) and any(a["handoffs_created"] >= 1 for a in day))
                return day if done else None

            await asyncio.to_thread(worker.wait_for, counted, "every contact and the handoff counted", 180)
            print(f"counted {time.time() - healed_at:.1f} s after the heal (hang began {healed_at - hung_at:.0f} s "
                  "before it)")
            await asyncio.to_thread(worker.wait_for, lambda: (http_status(ready_url) or (0, {}))[0] == 200,
                                    "/ready 200 once the registry answers", 120)
            assert await asyncio.to_thread(_held_back, kpis_url) == (None, None)
        assert_clean_exit(worker)
        assert await read_dead_letters(config) == []
        rebalanced = [line for line in worker.lines if any(words in line for words in REBALANCED)]
        print("rebalance lines:", len(rebalanced), rebalanced[:3])
        assert rebalanced == [], rebalanced[:5]


LONG_HANG_S = 100.0  # the client's 10 s timeout, the lag watchdog's 60 s stall window and its 10 s tick, and some


async def test_a_registry_hanging_past_the_lag_watchdogs_window_is_one_bounded_info_line_of_it(
        bootstrap_servers: str, tmp_path: Path) -> None:
    """A user, 60 s into a registry hang: besides the outage's warning (and its info line once healed), the lag
    watchdog of kpis wrote a ~6 KB warning with every partition set and task stack. Now one info line: what, since
    when, which input partitions; no other warning of the watchdog."""
    work = tmp_path / "work"
    work.mkdir()
    with hanging_registry(tmp_path / "registry") as (registry, proxy):
        config = await settings_with_topics(bootstrap_servers, partitions=2, registry={"url": registry.url})
        await apply_topics(config, changelogs(config))
        env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": config.topics.prefix,
               "OMNIBUS_TOPICS__PARTITIONS": "2", "OMNIBUS_REGISTRY__URL": proxy.url_of(registry.url),
               "OMNIBUS_METRICS__PORT": "0", "OMNIBUS_PROCESSOR_KPIS__WEB_PORT": "0"}
        handoffs = HANDOFF_EVENTS.name(config.topics)
        serializer, _ = build_serde(config.registry)
        with omnibus_command(["kpis", "run"], env, work) as worker:
            ready_url = f"http://127.0.0.1:{worker.port(PORT_CHOSEN_EVENT)}/ready"
            await asyncio.to_thread(worker.wait_for, lambda: (http_status(ready_url) or (0, {}))[0] == 200,
                                    "/ready 200 before the hang", 180)
            async with EventProducer(config, serializer) as producer:
                created = handoff("HandoffCreated", "h-1", datetime.now(UTC), origin_site="paris")
                await producer.encode(Outgoing(handoffs, "h-1", created))  # registered here, never seen by the worker
                proxy.stall()
                await producer.publish(Outgoing(handoffs, "h-1", created))
                await asyncio.sleep(LONG_HANG_S)
            proxy.heal()
            await asyncio.to_thread(worker.wait_for, lambda: (http_status(ready_url) or (0, {}))[0] == 200,
                                    "/ready 200 once the registry answers", 120)
        assert_clean_exit(worker)
    lines = [json.loads(line) for line in worker.lines]
    dumps = [line for line in lines if line["event"].startswith("lag watchdog has judged no partition")]
    assert dumps == [], str(dumps)[:1000]
    said = [line for line in lines if line.get("why") == "waiting for the schema registry"]
    assert len(said) == 1 and said[0]["level"] == "info", said
    print("the lag watchdog's line:", json.dumps(said[0]))
    assert len(json.dumps(said[0])) < 1000 and said[0]["partitions"][handoffs] == [0, 1]  # bounded: no dump
    outage = [line["level"] for line in lines if line.get("logger") == "bus.registry_outage"]
    assert outage == ["warning", "info"], outage  # the outage's own lines, as documented

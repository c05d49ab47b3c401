"""Two ``omnibus kpis run`` workers on a real broker: the same ``GET /kpis`` on either answers every window.

Each worker owns half of the windows table's partitions; with the manifests' two replicas a dashboard behind the
Service got a different half per request (``partial: true``). The worker asked now gathers the other's windows
(``processors/kpis/peers.py``), so both answer the same twelve hourly windows, ``partial: false``; asked ``from`` a
plain date (answered 500 before). With one killed, the other says which partitions it lacks and why until the group
moves them to it.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bus.app import PORT_CHOSEN_EVENT
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topic_admin import apply_topics
from bus.topics import CONTACT_EVENTS
from processors.kpis.agent import changelogs
from processors.kpis.rollup import partition_of
from processors.kpis.windows import Granularity, WindowKey, to_micros
from tests.processors.kpis.factories import interaction
from tests.support.processes import assert_clean_exit, omnibus_command
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(420)]

PARTITIONS = 4
PLACES = (("CALL_CENTER", "paris"), ("CALL_CENTER", "lyon"), ("BRANCH", "0001"), ("WEB", None))


def get(port: int, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None


async def test_either_of_two_workers_answers_every_window(bootstrap_servers: str, tmp_path: Path) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=PARTITIONS)
    await apply_topics(config, changelogs(config))
    common = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": config.topics.prefix,
              "OMNIBUS_TOPICS__PARTITIONS": str(PARTITIONS), "OMNIBUS_PROCESSOR_KPIS__TICK_INTERVAL_S": "1"}
    # port 0: each worker binds its ports itself and logs them
    envs = [{**common, "OMNIBUS_PROCESSOR_KPIS__WEB_PORT": "0", "OMNIBUS_METRICS__PORT": "0"} for _ in range(2)]
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    contacts = [interaction(hour - timedelta(hours=h) + timedelta(minutes=10), channel=channel, site=site)
                for h in range(3) for channel, site in PLACES]
    expected = {(WindowKey.parse(key).start_us, channel, site or "")
                for h in range(3) for channel, site in PLACES
                for key in [f"HOUR|{to_micros(hour - timedelta(hours=h))}|{channel}|{site or ''}"]}
    spread = {partition_of(f"HOUR|{start}|{channel}|{site}", PARTITIONS) for start, channel, site in expected}
    assert len(spread) > 1, spread  # windows on several partitions: each worker owns some

    def owned(port: int) -> set[int]:
        status, body = get(port, f"/kpis/partitions?partitions={','.join(map(str, range(PARTITIONS)))}")
        return set(body["partitions"]) if status == 200 else set()

    def answered(port: int) -> dict[str, Any] | None:
        since = (hour - timedelta(days=1)).date().isoformat()  # a plain date, as the report command takes (was a 500)
        status, body = get(port, f"/kpis?granularity=HOUR&from={since}")
        if status != 200 or body["partial"]:
            return None
        found = {(to_micros(datetime.fromisoformat(a["window_start"])), a["channel"], a["site"] or ""):
                 a["counts"]["contacts"] for a in body["aggregates"]}
        return body if set(found) == expected and set(found.values()) == {1} else None

    with omnibus_command(["kpis", "run"], envs[0], tmp_path) as one, \
            omnibus_command(["kpis", "run"], envs[1], tmp_path) as two:
        web = (one.port(PORT_CHOSEN_EVENT), two.port(PORT_CHOSEN_EVENT))

        def split() -> bool:
            first, second = owned(web[0]), owned(web[1])
            return bool(first and second and not first & second and first | second == set(range(PARTITIONS)))

        await asyncio.to_thread(one.wait_for, split, "the two workers to share the partitions", 240.0)
        serializer, _ = build_serde(config.registry)
        async with EventProducer(config, serializer) as producer:
            await producer.publish_many([Outgoing(CONTACT_EVENTS.name(config.topics), f"c-{n}", contact)
                                         for n, contact in enumerate(contacts)])
        for worker, port in ((one, web[0]), (two, web[1])):
            body = await asyncio.to_thread(worker.wait_for, lambda p=port: answered(p),
                                           f"every window from the worker on {port}", 120.0)
            assert body["missing"] == [] and all(a["granularity"] == Granularity.HOUR for a in body["aggregates"])
        assert owned(web[0]) and owned(web[1])  # still two owners: the answers were gathered, not one worker's own

        # kill -9 of the second: until the group moves its partitions (the 10 s session timeout) the first cannot
        # ask it, and says so, naming them; then it owns every partition and answers every window again
        lost = owned(web[1])
        two.process.kill()

        def honest_half() -> dict[str, Any] | None:
            status, body = get(web[0], "/kpis?granularity=HOUR")
            return body if status == 200 and body["partial"] else None

        body = await asyncio.to_thread(one.wait_for, honest_half, "a partial answer naming what it lacks", 30.0)
        assert [sorted(lost)] == [item["partitions"] for item in body["missing"]], body["missing"]
        assert "did not answer" in body["missing"][0]["reason"]
        assert {partition_of(f"HOUR|{to_micros(datetime.fromisoformat(a['window_start']))}|{a['channel']}|"
                             f"{a['site'] or ''}", PARTITIONS) for a in body["aggregates"]}.isdisjoint(lost)
        await asyncio.to_thread(one.wait_for, lambda: answered(web[0]), "every window once the group moved", 120.0)
    assert_clean_exit(one)

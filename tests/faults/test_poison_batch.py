"""#13 case 5's open sample on the real broker: ``POST /v1/batch`` of 10,000 small tracks for one user.

It was answered 200, then identity crashed writing a state record over 1 MiB (10,000 sagas deferred in the
state of the user's new identifier node) and 365 of the 10,000 never reached ``customer.contacts``. Now a
node's deferral queue is bounded (``processors.identity.graph.engine.MAX_DEFERRED_BYTES``): every track
reaches ``customer.contacts`` and no record on any topic of the run is over the broker's limit.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from bus.topics import CUSTOMER_CONTACTS
from tests.faults.stack import WRITE_KEY, stack
from tests.support.fault_report import machine, record_fault
from tests.support.kafka_io import read_raw

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

TRACKS = 10_000
BROKER_LIMIT = 1024 * 1024  # message.max.bytes, Kafka's default (the project's broker keeps it)


def post_batch(port: int, messages: list[dict]) -> tuple[int, dict]:
    body = json.dumps({"batch": messages}, separators=(",", ":")).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/batch", data=body, method="POST", headers={
        "Content-Type": "application/json",
        "Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.status, json.loads(response.read())


async def topics_of(bootstrap_servers: str, prefix: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        return sorted(name for name in await admin.list_topics() if name.startswith(prefix))
    finally:
        await admin.close()


@pytest.mark.timeout(600)
async def test_ten_thousand_tracks_of_one_user_all_reach_customer_contacts_and_no_record_is_over_the_limit(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    with stack(tmp_path, bootstrap_servers=bootstrap_servers) as running:
        identity = running.processor("identity")
        web = running.web_adapter()
        assert web.port is not None
        # The smallest tracks Segment allows, told apart by their event name (no messageId: the adapter
        # derives the dedupe id from the content); 10,000 fit the 500 KB batch limit.
        tracks = [{"type": "track", "event": f"{i:04d}", "userId": "u"} for i in range(TRACKS)]
        began = time.monotonic()
        status, answer = post_batch(web.port, tracks)
        assert status == 200 and not answer.get("rejected"), answer
        contacts_topic = CUSTOMER_CONTACTS.name(running.settings().topics)
        contacts: list = []
        deadline = time.monotonic() + 420
        while time.monotonic() < deadline:
            assert identity.alive(), f"identity stopped:\n{identity.tail()}"
            contacts = await read_raw(bootstrap_servers, contacts_topic)
            if len({record.value for record in contacts}) >= TRACKS:
                break
            time.sleep(3)
        settled_s = time.monotonic() - began
        assert identity.alive(), identity.tail()
    topics = await topics_of(bootstrap_servers, running.prefix)
    largest = {topic: max((len(r.value or b"") for r in await read_raw(bootstrap_servers, topic)), default=0)
               for topic in topics}
    distinct = len({record.value for record in contacts})
    record_fault("poison-batch-10000-tracks", (
        "## #13 case 5: `POST /v1/batch` of 10,000 tracks for one user\n\n"
        "`pytest tests/faults/test_poison_batch.py` — web adapter and identity as processes "
        f"(`omnibus adapter web run`, `omnibus identity run`), 2 partitions; {machine()}.\n\n"
        f"| sent | answered | on customer.contacts (distinct) | records there | lost | time to all contacts | "
        f"largest record on any topic |\n|---|---|---|---|---|---|---|\n"
        f"| {TRACKS} | {status} | {distinct} | {len(contacts)} | {TRACKS - distinct} | {settled_s:.0f} s | "
        f"{max(largest.values())} B ({max(largest, key=largest.__getitem__).removeprefix(running.prefix)}) |\n"))
    assert distinct == TRACKS
    assert max(largest.values()) < BROKER_LIMIT // 2, largest

"""A recycled number on a real broker, through the real identity processor: the old subscriber's case is never told on
the number once billing gave it to the new subscriber (tester34 F4).

Billing's master export gives Claire the mobile; she opens a call-center case from it; billing closes her contract and
the next export gives the number to Nina (identity's recycle, ``processors/identity/graph/recycle.py``). The tracker
reads that the number is Nina's now: Claire's case stays Claire's, its next notification goes to Claire's e-mail on the
web fallback, and its status events name Claire by her e-mail, not the number; the RECEIVED that went to the number
is recalled (``CustomerNotificationRecalled``) for a gateway that still holds it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bus.clock import ManualClock
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import ALL_TOPICS, HANDOFF_EVENTS
from processors.handoffs.config import HandoffPolicy
from tests.processors.handoffs.broker import Watcher, running_worker
from tests.processors.handoffs.factories import T0, accepted, created
from tests.processors.handoffs.test_directory_feed import _until
from tests.processors.identity.broker import assignments, running_workers
from tests.processors.identity.graph.test_number_recycling import closed, line
from tests.processors.identity.support import matcher_settings
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka
H = timedelta(hours=1)
MOBILE = {"type": "PHONE", "value": "+33633445566"}
CLAIRES_EMAIL = {"type": "EMAIL", "value": "claire.petit@example.fr"}


async def test_the_old_subscribers_case_is_never_told_on_the_recycled_number(bootstrap_servers: str,
                                                                             tmp_path: Path) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    serializer, _ = build_serde(settings.registry)
    watcher = Watcher(settings)
    await watcher.start()
    names = {spec.suffix: spec.name(settings.topics) for spec in ALL_TOPICS}

    def status() -> list[dict]:
        return [e.value for e in watcher.events("HandoffStatusChanged") if e.value["handoff_id"] == "h1"]

    async with running_workers(settings, matcher_settings(), tmp_path, 1), \
            running_worker(settings, HandoffPolicy(), ManualClock(T0)) as worker, \
            EventProducer(settings, serializer) as producer:

        async def publish(items: list) -> None:
            for event, suffix in items:
                await producer.publish(Outgoing(names[suffix], event.value["envelope"]["event_id"], event))

        await publish(line("claire", 8))
        claire = None
        for _ in range(120):
            claire = (await assignments(settings)).get("PHONE:" + MOBILE["value"])
            if claire is not None:
                break
            await _until(lambda: False, 0.5)
        assert claire is not None
        await producer.publish(Outgoing(names[HANDOFF_EVENTS.suffix], "h1", created("h1", identifiers=[MOBILE])))
        await watcher.until(lambda: any(s["customer_id"] == claire for s in status()), timeout_s=90,
                            what="the case on Claire")
        await publish(closed("CT-900005", 9) + line("nina", 10))
        await watcher.until(lambda: any(s["customer_id"] == claire and MOBILE not in s["customer_identifiers"]
                                        for s in status()), timeout_s=120, what="the case naming Claire without the number")
        assert (await assignments(settings))["PHONE:" + MOBILE["value"]] != claire
        assert worker.feed is not None
        await producer.publish(Outgoing(names[HANDOFF_EVENTS.suffix], "h1", accepted("h1", T0 + H)))
        await watcher.until(lambda: any(e.value["kind"] == "IN_PROGRESS"
                                        for e in watcher.events("CustomerNotification")), what="IN_PROGRESS")
        await watcher.until(lambda: bool(watcher.events("CustomerNotificationRecalled")), what="the recall")
    received = next(e.value for e in watcher.events("CustomerNotification") if e.value["kind"] == "RECEIVED")
    (recall,) = [e.value for e in watcher.events("CustomerNotificationRecalled")]  # once, only what went to the number
    assert received["address"] == MOBILE and recall["notification_id"] == received["notification_id"]
    assert (recall["reason"], recall["address"], recall["customer_id"]) == ("ADDRESS_LOST", MOBILE, claire)
    note = next(e.value for e in watcher.events("CustomerNotification") if e.value["kind"] == "IN_PROGRESS")
    assert note["customer_id"] == claire and note["address"] != MOBILE
    assert (note["channel"], note["address"]) == ("WEB", CLAIRES_EMAIL)
    assert all(MOBILE not in s["customer_identifiers"] for s in status()[-2:])
    await watcher.stop()

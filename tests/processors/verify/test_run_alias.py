"""Broker test of ``omnibus verify`` after Segment aliases (#8 points 3 and 5; the new user's findings 1 and 6):
the identity processor takes the web adapter's events in the tester's orders (page then alias; alias then the
anonymous track; an alias between twins with user ids; tester8's conflicting alias arriving first), and verify,
which reads topic by topic, agrees."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.web.mapper import SegmentMapper
from bus.producer import EventProducer
from bus.serde import build_serde
from bus.topics import CUSTOMER_IDENTIFIERS
from processors.verify.run import averify
from tests.adapters.web.support import web_settings
from tests.processors.identity.broker import running_workers, wait_until_quiet, watched_topics
from tests.processors.identity.support import matcher_settings
from tests.support.kafka_io import read_events
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka


def _twin(name: str, phone: str) -> dict[str, Any]:
    return {"type": "identify", "userId": f"t7-{name.lower()}", "traits": {
        "firstName": name, "lastName": "Petit", "birthday": "1999-04-12", "phone": phone,
        "email": f"{name.lower()}.petit@t7.example"}}


# Tester8's finding 4: an alias naming Eve's anonymous id for Dan (sent at 09:50), after Eve's own (09:1x) by
# event time but arriving first, before anything carried the id: Eve's earlier alias keeps it (#8 point 5).
CONFLICT = {"type": "alias", "previousId": "t8-anonE", "userId": "t8-userD", "timestamp": "2025-03-01T09:50:00Z"}
FIRST = [{"type": "page", "anonymousId": "anon-t7-dave", "name": "Tariffs"},
         {"type": "alias", "previousId": "anon-t7-early", "userId": "t7-erin"},
         _twin("Anna", "+33611111111"), _twin("Hanna", "+33622222222"),
         {"type": "identify", "userId": "t8-userD", "traits": {"email": "d.t8@example.org", "firstName": "Dan"}},
         CONFLICT]
THEN = [{"type": "alias", "previousId": "anon-t7-dave", "userId": "t7-dave"},
        {"type": "track", "anonymousId": "anon-t7-early", "event": "Tariffs Viewed"},
        {"type": "alias", "previousId": "t7-anna", "userId": "t7-hanna"},
        {"type": "track", "anonymousId": "t8-anonE", "event": "Viewed Loans"},
        {"type": "identify", "userId": "t8-userE", "traits": {"email": "e.t8@example.org", "firstName": "Eve"}},
        {"type": "alias", "previousId": "t8-anonE", "userId": "t8-userE"}]


async def _send(settings, messages: list[dict[str, Any]], start: int) -> None:  # type: ignore[no-untyped-def]
    mapper = SegmentMapper(web_settings(), settings.topics)
    serializer, _ = build_serde(settings.registry)
    batch = []
    for minute, message in enumerate(messages, start):
        body = {"messageId": f"m{minute}", "timestamp": f"2025-03-01T09:{minute:02d}:00Z", **message}
        batch += mapper(body, received_at=datetime(2025, 3, 1, 10, tzinfo=UTC)).events
    async with EventProducer(settings, serializer) as producer:
        await producer.publish_many(batch)


@pytest.mark.timeout(240)
async def test_verify_passes_after_aliases_in_the_new_users_orders(bootstrap_servers: str, tmp_path: Path) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=3)
    identity = matcher_settings()
    async with running_workers(settings, identity, tmp_path, 1) as workers:
        quiet = (settings, watched_topics(workers[0]), workers[0].app.conf.id)
        await _send(settings, FIRST, 0)
        await wait_until_quiet(*quiet, quiet_s=3)
        await _send(settings, THEN, len(FIRST))
        await wait_until_quiet(*quiet, quiet_s=3)

    owner = {e.key: e.event.value["customer_id"] for e in await read_events(settings, CUSTOMER_IDENTIFIERS)
             if e.event is not None}
    assert owner["ANONYMOUS_ID:anon-t7-dave"] == owner["USER_ID:t7-dave"]
    assert owner["ANONYMOUS_ID:anon-t7-early"] == owner["USER_ID:t7-erin"]  # the alias came first
    assert owner["USER_ID:t7-anna"] != owner["USER_ID:t7-hanna"]  # two user ids: two people
    assert not {"USER_ID:anon-t7-dave", "USER_ID:anon-t7-early", "ANONYMOUS_ID:t7-anna"} & owner.keys()
    assert owner["ANONYMOUS_ID:t8-anonE"] == owner["USER_ID:t8-userE"] != owner["USER_ID:t8-userD"]

    report = await averify(settings, processors=("identity",), identity=identity)
    print("\n".join(report.lines()))
    assert report.ok, "\n".join(report.lines())

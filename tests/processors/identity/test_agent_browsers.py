"""Broker test of #8 point 5 where the one-user-id limit refuses links: browsers shared by several users (family PCs)
and conflicting Segment aliases, through the web adapter's mapper, on one worker and one partition in time order and
on three workers and twelve partitions shuffled. Both give the rule's customers: every user id its own, each
anonymous id with the user of its earliest login (``graph/limits.tells``; ``graph/test_shared_browser.py``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from bus.topics import CONTACT_EVENTS, CUSTOMER_CONTACTS, CUSTOMER_EVENTS, IDENTIFIERS_OBSERVED
from tests.adapters.web.support import web_settings
from tests.processors.identity.broker import assignments, clusters, running_workers, wait_until_quiet, watched_topics
from tests.processors.identity.graph.test_shared_browser import Call, expected
from tests.processors.identity.support import matcher_settings
from tests.processors.identity.test_agent import publish, run_identity
from tests.support.kafka_io import one_per_event_id, read_dead_letters, read_events
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka

T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)


def browsing(rng: random.Random, calls: int, browsers: int, users: int) -> list[Call]:
    """``calls`` Segment calls in time order: anonymous page views, logins (identify with the browser's anonymous id),
    server-side identifies and aliases naming a browser; a browser is used by one to three users."""
    used = {b: rng.sample(range(users), rng.randint(1, 3)) for b in range(browsers)}
    items: list[Call] = []
    for _ in range(calls):
        browser = rng.randrange(browsers)
        user = f"u-{rng.choice(used[browser])}"
        kind = rng.random()
        if kind < 0.4:
            items.append((f"pc-{browser}", None, None))
        elif kind < 0.75:
            items.append((f"pc-{browser}", user, None))
        elif kind < 0.85:
            items.append((None, user, None))
        else:
            items.append((None, user, f"pc-{browser}"))
    return items


def mapped(items: list[Call]) -> list[tuple[str, Event]]:
    """(topic suffix, event) of every call as the web adapter maps it, the ``i``-th call at second ``i``."""
    mapper = SegmentMapper(web_settings(), TopicSettings())
    out = []
    for second, (anonymous, user, previous) in enumerate(items):
        at = (T0 + timedelta(seconds=second)).isoformat().replace("+00:00", "Z")
        if previous is not None:
            body = {"type": "alias", "previousId": previous, "userId": user}
        else:
            body = {"type": "identify" if user else "track", "event": "Viewed",
                    **({"anonymousId": anonymous} if anonymous else {}), **({"userId": user} if user else {})}
        for outgoing in mapper({"messageId": f"m{second}", "timestamp": at, **body},
                               received_at=T0 + timedelta(hours=1)).events:
            observed = outgoing.event.schema.endswith("IdentifiersObserved")
            out.append(((IDENTIFIERS_OBSERVED if observed else CONTACT_EVENTS).suffix, outgoing.event))
    return out


@pytest.mark.timeout(300)
async def test_shared_browsers_and_conflicting_aliases_one_worker_and_three_on_twelve_partitions_agree(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    items = browsing(random.Random(17), calls=90, browsers=10, users=14)
    want = expected(items)
    assert sum(1 for group in want if any(key.startswith("ANONYMOUS_ID:") for key in group)
               and any(key.startswith("USER_ID:") for key in group)) >= 5  # browsers really go to users
    logins: dict[str, set[str]] = {}
    for anonymous, user, previous in items:
        if user and (previous or anonymous):
            logins.setdefault(previous or anonymous or "", set()).add(user)
    assert sum(len(users) > 1 for users in logins.values()) >= 3  # browsers of two users: the limit refuses links
    events = mapped(items)
    single = await run_identity(bootstrap_servers, tmp_path / "a", events, partitions=1, workers=1,
                                identity=matcher_settings())
    shuffled = list(events)
    random.Random(4).shuffle(shuffled)
    scaled = await run_identity(bootstrap_servers, tmp_path / "b", shuffled, partitions=12, workers=3,
                                identity=matcher_settings())
    assert clusters(single) == want
    assert clusters(scaled) == want


@pytest.mark.timeout(300)
async def test_on_a_broker_page_views_end_on_their_browsers_users_customer_keys_shuffled_on_twelve_partitions(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    """Contacts follow a claim (``claim_node.on_give``): shuffled on 12 partitions and 3 workers, a page view applied
    while a later login held its anonymous id is re-published under the earliest login's customer (an id derived from
    the claim), so each page view's last key on ``customer.contacts.v1`` is the customer of its anonymous id."""
    items = browsing(random.Random(17), calls=90, browsers=10, users=14)
    events = mapped(items)
    random.Random(4).shuffle(events)
    settings = await settings_with_topics(bootstrap_servers, partitions=12)
    await publish(settings, events)
    async with running_workers(settings, matcher_settings(), tmp_path, 3) as started:
        await wait_until_quiet(settings, watched_topics(started[0]), started[0].app.conf.id)
    assert await read_dead_letters(settings) == []
    owners = await assignments(settings)
    assert clusters(owners) == expected(items)
    survivor = {landed.event.value["merged_customer_id"]: landed.event.value["survivor_customer_id"]
                for landed in one_per_event_id(await read_events(settings, CUSTOMER_EVENTS))
                if landed.event.schema.endswith("CustomerMerged")}

    def root(customer: str) -> str:
        while customer in survivor:
            customer = survivor[customer]
        return customer

    page_views = {event.value["envelope"]["event_id"]: event.value["customer_identifiers"][0]["value"]
                  for _, event in events if event.schema.endswith("InteractionRecorded")}
    last_key: dict[str, str] = {}  # a page view's event id -> the key of its last copy (the moved one if it moved)
    for landed in one_per_event_id(await read_events(settings, CUSTOMER_CONTACTS)):
        envelope = landed.event.value["envelope"]
        if envelope["event_id"] in page_views:  # as it came
            last_key.setdefault(envelope["event_id"], landed.key)
        elif envelope.get("causation_id") in page_views:  # re-published under the customer a claim moved it to
            last_key[envelope["causation_id"]] = landed.key
    assert set(last_key) == set(page_views)
    wrong = [event_id for event_id, anonymous in page_views.items()
             if root(last_key[event_id]) != root(owners[f"ANONYMOUS_ID:{anonymous}"])]
    assert not wrong, f"{len(wrong)} of {len(page_views)} page views not under their anonymous id's customer"

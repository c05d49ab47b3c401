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
from bus.topics import CONTACT_EVENTS, IDENTIFIERS_OBSERVED
from tests.adapters.web.support import web_settings
from tests.processors.identity.broker import clusters
from tests.processors.identity.graph.test_shared_browser import Call, expected
from tests.processors.identity.support import matcher_settings
from tests.processors.identity.test_agent import run_identity

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

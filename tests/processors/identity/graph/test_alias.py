"""Segment ``alias`` through the graph (#8 points 3-5): its previousId is looked up as an anonymous or an earlier
user id, never makes a customer, links through the same merge decision as any link, and the clusters are the
same in every arrival order (an alias that arrives before its previous id's events links once it has an owner).
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st

from adapters.web.config import WebSettings
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.graph.outputs import Refused, Resolved
from processors.identity.graph.state import IdentifierState
from processors.identity.rules import MAX_PER_CUSTOMER, SHARED_IDENTIFIER
from tests.adapters.web.support import web_settings
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

OBSERVED, CONTACTS = "identity.observed.v1", "contact.events.v1"


def segment(*messages: dict[str, Any], web: WebSettings | None = None) -> list[tuple[Event, str]]:
    """The canonical events the web adapter (``web``: its settings, else the defaults) makes of ``messages`` (minute
    ``i`` for the ``i``-th), with topics."""
    mapper = SegmentMapper(web or web_settings(), TopicSettings())
    events = []
    for minute, message in enumerate(messages):
        body = {"messageId": f"m{minute}", "timestamp": f"2025-03-01T09:{minute:02d}:00Z", **message}
        for outgoing in mapper(body, received_at=datetime(2025, 3, 1, 10, tzinfo=UTC)).events:
            schema = outgoing.event.schema
            events.append((outgoing.event, OBSERVED if schema.endswith("IdentifiersObserved") else CONTACTS))
    return events


def run(events: list[tuple[Event, str]], order: tuple[int, ...], *, partitions: int = 1, seed: int | None = None,
        before: list[tuple[Event, str]] | None = None, **overrides: Any) -> Harness:
    """``events`` in ``order``, some messages let through between arrivals when ``seed`` is given; ``before``: events
    fed first, each settled (a bank's master records)."""
    h = Harness(settings(**overrides), partitions=partitions, seed=seed)
    for event, topic in before or []:
        h.feed(event, topic)
    rng = random.Random(seed)
    for index in order:
        event, topic = events[index]
        h.feed(event, topic=topic, settle=seed is None)
        for _ in range(rng.randint(0, 6) if seed is not None else 0):
            h.local.step()
    h.local.run()
    h.local.check_consistent()
    return h


def every_order(count: int) -> list[tuple[tuple[int, ...], int, int | None]]:
    """(order, partitions, seed): every permutation settled one by one, and interleaved on 3 partitions."""
    return [(order, partitions, seed) for order in itertools.permutations(range(count))
            for partitions, seed in ((1, None), (3, 7), (3, 11))]


def clusters(h: Harness) -> set[frozenset[str]]:
    return h.local.clusters()


ERIN = segment(
    {"type": "track", "anonymousId": "anon-t7-early", "event": "Tariffs Viewed"},
    {"type": "alias", "previousId": "anon-t7-early", "userId": "t7-erin"},
    {"type": "page", "anonymousId": "anon-t7-early", "name": "Checkout"},
)


@pytest.mark.parametrize(("order", "partitions", "seed"), every_order(len(ERIN)))
def test_an_alias_joins_the_anonymous_activity_in_every_arrival_order(order, partitions, seed) -> None:  # type: ignore[no-untyped-def]
    """The new user's finding 6: the alias sent before the anonymous track left two customers for good."""
    h = run(ERIN, order, partitions=partitions, seed=seed)
    assert clusters(h) == {frozenset({h.key("ANONYMOUS_ID", "anon-t7-early"), h.key("USER_ID", "t7-erin")})}
    assert h.customer("USER_ID", "anon-t7-early") is None  # looked up as either kind, never made a customer
    assert len({r.customer_id for r in h.decisions(Resolved)}) <= 2  # (the first customer merged into the other)
    assert not h.decisions(Refused)


def _twins(name: str, phone: str) -> dict[str, Any]:
    return {"type": "identify", "userId": f"t7-{name.lower()}", "traits": {
        "firstName": name, "lastName": "Petit", "birthday": "1999-04-12", "phone": phone,
        "email": f"{name.lower()}.petit@t7.example"}}


TWINS = segment(_twins("Anna", "+33611111111"), _twins("Hanna", "+33622222222"),
                {"type": "alias", "previousId": "t7-anna", "userId": "t7-hanna"},
                {"type": "track", "userId": "t7-anna", "event": "Invoice Downloaded"},
                {"type": "track", "userId": "t7-hanna", "event": "Invoice Downloaded"})


@pytest.mark.parametrize(("order", "partitions", "seed"), [
    (order, partitions, seed) for order, partitions, seed in every_order(3)] + [((0, 1, 2, 3, 4), 1, None)])
def test_an_alias_between_two_people_with_user_ids_is_refused_and_poisons_neither(order, partitions, seed) -> None:  # type: ignore[no-untyped-def]
    """The new user's finding 6: alias(t7-anna -> t7-hanna) merged the twins into one customer with two USER_IDs.
    Two user ids on one customer are two people (max_per_customer USER_ID 1), an alias or not; afterwards each
    twin's events still go to her own customer."""
    h = run(TWINS, (*order, 3, 4), partitions=partitions, seed=seed)
    anna, hanna = h.customer("USER_ID", "t7-anna"), h.customer("USER_ID", "t7-hanna")
    assert anna and hanna and anna != hanna
    assert all(sum(key.startswith("USER_ID:") for key in members) == 1 for members in clusters(h))
    assert any(r.lineage.rule == MAX_PER_CUSTOMER for r in h.decisions(Refused))
    assert not [r for r in h.decisions(Refused) if r.lineage.rule == SHARED_IDENTIFIER]
    for name in ("t7-anna", "t7-hanna"):
        node = h.local.store.nodes[h.key("USER_ID", name)]
        assert isinstance(node, IdentifierState) and not node.shared
    tracks = {r.triggering_event_id: r.customer_id for r in h.decisions(Resolved)}
    track_ids = [event.value["envelope"]["event_id"] for event, _ in TWINS[3:]]
    assert [h.local.customer_of(h.key("USER_ID", n)) for n in ("t7-anna", "t7-hanna")] == [anna, hanna]
    assert {tracks[track_ids[0]], tracks[track_ids[1]]} <= {anna, hanna} | _merged_into(h, anna, hanna)
    assert tracks[track_ids[0]] != tracks[track_ids[1]]


def _merged_into(h: Harness, *roots: str) -> set[str]:
    """Customer ids that merged into ``roots`` (an event may resolve on a customer that merged on since)."""
    from processors.identity.graph.outputs import Merged

    return {m.merged_id for m in h.decisions(Merged) if m.survivor_id in roots}


RENAME = segment({"type": "identify", "userId": "u-old", "traits": {"email": "old@example.org"}},
                 {"type": "alias", "previousId": "u-old", "userId": "u-new"},
                 {"type": "identify", "userId": "u-new", "traits": {"email": "new@example.org"}})


@pytest.mark.parametrize(("order", "partitions", "seed"), every_order(len(RENAME)))
def test_an_alias_of_an_earlier_user_id_follows_the_user_id_limit_in_every_order(order, partitions, seed) -> None:  # type: ignore[no-untyped-def]
    """An earlier user id is resolved as a USER_ID: with the shipped limit (one user id per customer) the two users
    stay two customers, with a limit of two they are one; in every arrival order, and neither id is poisoned."""
    old, new = "USER_ID:u-old", "USER_ID:u-new"
    h = run(RENAME, order, partitions=partitions, seed=seed)
    assert h.customer("USER_ID", "u-old") != h.customer("USER_ID", "u-new")
    assert not [r for r in h.decisions(Refused) if r.lineage.rule == SHARED_IDENTIFIER]
    two = run(RENAME, order, partitions=partitions, seed=seed, max_per_customer={"USER_ID": 2})
    assert two.customer("USER_ID", "u-old") == two.customer("USER_ID", "u-new") is not None
    assert {old, new} <= next(iter(c for c in clusters(two) if old in c))


def test_an_alias_of_an_id_nobody_ever_uses_makes_no_customer_and_stays_a_small_note() -> None:
    events = segment({"type": "alias", "previousId": "never-seen", "userId": "u-9"},
                     {"type": "track", "userId": "u-9", "event": "Login"})
    h = run(events, (0, 1))
    assert h.customer("USER_ID", "never-seen") is None and h.customer("ANONYMOUS_ID", "never-seen") is None
    assert clusters(h) == {frozenset({"USER_ID:u-9"})}
    note = h.local.store.nodes["ANONYMOUS_ID:never-seen"]
    assert isinstance(note, IdentifierState) and note.owner is None
    assert [key for _, key in note.aliased] == ["USER_ID:u-9"] and not note.aliased_to  # noted with the alias's rank


@pytest.mark.parametrize("alias_first", [True, False])
def test_a_duplicate_or_replayed_alias_changes_nothing(alias_first: bool) -> None:
    """The same alias delivered twice (at-least-once), and again after its previous id got an owner."""
    track, alias = ERIN[0], ERIN[1]
    h = Harness(settings(), partitions=3, seed=5, duplicates=0.3)
    for event, topic in ([alias, alias, track] if alias_first else [track, alias, alias]):
        h.feed(event, topic=topic)
    once = clusters(h)
    merges = len([d for d in h.local.decisions if type(d).__name__ == "Merged"])
    h.feed(*alias)
    assert clusters(h) == once == {frozenset({"ANONYMOUS_ID:anon-t7-early", "USER_ID:t7-erin"})}
    assert len([d for d in h.local.decisions if type(d).__name__ == "Merged"]) == merges <= 1
    h.local.check_consistent()


def _components(edges: list[set[str]]) -> set[frozenset[str]]:
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    for group in edges:
        first = find(min(group))
        for key in group:
            parent[find(key)] = first
    clusters: dict[str, set[str]] = {}
    for key in parent:
        clusters.setdefault(find(key), set()).add(key)
    return {frozenset(c) for c in clusters.values()}


_IDS = st.sampled_from(["x0", "x1", "x2", "x3", "x4", "x5"])
_OBSERVATION = st.lists(st.tuples(st.sampled_from(["ANONYMOUS_ID", "USER_ID", "EMAIL"]), _IDS), min_size=1, max_size=3)
_ALIAS = st.tuples(st.one_of(_IDS, _IDS.map(lambda raw: f"u-{raw}")), _IDS)  # previousId: an anonymous or user id
_STREAM = st.lists(st.one_of(_OBSERVATION, _ALIAS), min_size=1, max_size=12)


@settings_(max_examples=60, deadline=None)
@given(stream=_STREAM, seed=st.integers(0, 10**6))
def test_aliases_mixed_with_observations_give_the_connected_components_in_any_order(stream, seed) -> None:  # type: ignore[no-untyped-def]
    """Without limits or matcher, the clusters are the components of what was seen together plus, for each alias,
    its user id with every earlier-id key (anonymous or user id) that some event made a customer's; in any order."""
    from tests.processors.identity.support import observed, unlimited_settings

    def value(kind: str, raw: str) -> str:
        return f"{raw}@x.org" if kind == "EMAIL" else raw

    messages = []
    for item in stream:
        if isinstance(item, tuple):
            at = f"2025-03-01T09:{len(messages):02d}:00Z"
            messages.append({"type": "alias", "previousId": item[0], "userId": f"u-{item[1]}",
                             "messageId": f"alias-{len(messages)}", "timestamp": at})
        else:
            messages.append([(kind, value(kind, raw)) for kind, raw in item])
    h = Harness(unlimited_settings(), partitions=3, seed=seed)
    keys = [[h.key(kind, v) for kind, v in m] for m in messages if isinstance(m, list)]
    users = [f"USER_ID:{m['userId']}" for m in messages if isinstance(m, dict)]
    owned = {key for group in keys for key in group} | set(users)
    edges = [set(group) for group in keys] + [{user} for user in users]
    for m in messages:
        if isinstance(m, dict):
            edges.append({f"USER_ID:{m['userId']}", *({f"ANONYMOUS_ID:{m['previousId']}", f"USER_ID:{m['previousId']}"}
                                                        & owned)})
    order = list(range(len(messages)))
    random.Random(seed).shuffle(order)
    rng = random.Random(seed + 1)
    for index in order:
        m = messages[index]
        if isinstance(m, dict):
            for event, topic in segment(m):
                h.feed(event, topic=topic, settle=False)
        else:
            h.feed(observed(m, event_id=f"ev-{index}", minutes=index), settle=False)
        for _ in range(rng.randint(0, 6)):
            h.local.step()
    h.local.run()
    h.local.check_consistent()
    assert clusters(h) == _components(edges)


def _stream_events(stream) -> list[tuple[Event, str]]:  # type: ignore[no-untyped-def]
    """Segment identify / track calls and aliases of ``stream`` as the adapter maps them (minute ``i``)."""
    messages = []
    for item in stream:
        if isinstance(item, tuple):
            messages.append({"type": "alias", "previousId": item[0], "userId": f"u-{item[1]}"})
        else:
            anonymous, user = item[0], f"u-{item[1]}" if item[1] else None
            messages.append({"type": "identify" if user else "track", "event": "Viewed",
                             **({"anonymousId": anonymous} if anonymous else {}),
                             **({"userId": user} if user else {})})
    return segment(*messages)


_CALL = st.lists(st.one_of(st.none(), _IDS), min_size=2, max_size=2).filter(any)  # [anonymousId, userId]


def _users(found: set[frozenset[str]]) -> set[frozenset[str]]:
    return {users for members in found if (users := frozenset(k for k in members if k.startswith("USER_ID:")))}


@settings_(max_examples=150, deadline=None)
@given(stream=st.lists(st.one_of(_CALL, _ALIAS), min_size=1, max_size=10), seed=st.integers(0, 10**6))
def test_under_the_one_user_id_limit_aliases_group_the_same_user_ids_in_any_order(stream, seed) -> None:  # type: ignore[no-untyped-def]
    """Where the limit decides (one USER_ID per customer): the arrival order does not change the customers (which
    user ids are together, each on a customer of its own, and where an anonymous id two users logged in from or
    aliased ends: with its earliest login's user, ``test_shared_browser.py``)."""
    events = _stream_events(stream)
    order = list(range(len(events)))
    random.Random(seed).shuffle(order)
    settled = run(events, tuple(range(len(events))))
    shuffled = run(events, tuple(order), partitions=3, seed=seed)
    assert clusters(shuffled) == clusters(settled)
    assert all(len(users) == 1 for users in _users(clusters(settled)))

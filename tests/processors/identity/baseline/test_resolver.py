"""The baseline resolver decides like the partitioned graph protocol: same clusters, same customer ids."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from bus.serde import Event, SerdeContext
from processors.identity.baseline.resolver import SingleWriterResolver
from processors.identity.config import IdentitySettings
from processors.identity.graph.messages.steps import Visit
from processors.identity.graph.outputs import Created, Merged, Refused, Resolved, Send, SharedMarked
from processors.identity.intake import event_ref
from processors.identity.rules import LinkPolicy
from processors.identity.wire import decode_record, encode_record
from tests.bench.identity_workload import contact_mix
from tests.bench.identity_workload import events as older_mix
from tests.processors.identity.support import (
    MAX_EMAILS,
    SERIALIZER,
    Harness,
    household_events,
    matcher_settings,
    observed,
    person_identifiers,
    settings,
)


def run_both(events: list[Event], config: IdentitySettings, topic: str = "contact.events.v1",
             ) -> tuple[Harness, SingleWriterResolver, list[Any]]:
    """Every event through the graph (one partition, settled after each) and through the baseline."""
    harness = Harness(config)
    resolver = SingleWriterResolver(LinkPolicy(config), harness.book, dedupe_window=config.dedupe_window)
    decisions: list[Any] = []
    for event in events:
        raw = SERIALIZER(event, SerdeContext(topic=topic))
        started = harness.intake.start(event, event_ref(topic, event, raw))
        harness.local.submit(started)
        harness.local.run()
        for output in started:
            if isinstance(output, Send) and isinstance(output.message, Visit):  # as the decide log carries it
                ((node, message),) = decode_record(encode_record([(output.node, output.message)]))
                assert isinstance(message, Visit)
                decisions.extend(resolver.resolve(node, message, message.saga.event_id))
    return harness, resolver, decisions


def roots(harness: Harness) -> dict[str, frozenset[str]]:
    return {key: frozenset(state.members) for key, state in harness.local.roots().items() if state.members}


def assert_same(harness: Harness, resolver: SingleWriterResolver, decisions: list[Any] | None = None) -> None:
    assert resolver.roots() == roots(harness)
    if decisions is not None:  # the same announcements, kind by kind
        graph = harness.local.decisions
        assert Counter(type(d).__name__ for d in decisions) == Counter(type(d).__name__ for d in graph)
    assert resolver.clusters() == harness.local.clusters()
    for key in {k for cluster in resolver.clusters() for k in cluster}:
        assert resolver.owner_of(key) == harness.local.customer_of(key)


def test_the_benchmark_mix_gives_the_graphs_clusters_and_customer_ids() -> None:
    events = [event for _, _, event in contact_mix(600, seed=3)]
    harness, resolver, decisions = run_both(events, settings())
    assert_same(harness, resolver, decisions)
    assert sum(isinstance(d, Resolved) for d in decisions) == len(events)
    assert any(isinstance(d, Created) for d in decisions)


def test_the_older_mix_with_shared_identifiers_and_merges_gives_the_graphs_clusters() -> None:
    events = [event for _, _, event in older_mix(800, seed=11)]
    harness, resolver, decisions = run_both(events, settings())
    assert_same(harness, resolver, decisions)
    assert any(isinstance(d, Merged) for d in decisions)


def test_phones_shared_by_many_people_stop_linking_as_in_the_graph() -> None:
    rng = random.Random(4)
    events = [observed([("EMAIL", f"p{person}@x.org"), ("PHONE", f"+8613900000{person % 3:03d}")], minutes=index)
              for index, person in enumerate(rng.randrange(40) for _ in range(300))]
    harness, resolver, decisions = run_both(events, settings())
    assert_same(harness, resolver, decisions)
    assert any(isinstance(d, SharedMarked | Refused) for d in decisions)


def test_the_matcher_keeps_household_members_apart_as_in_the_graph() -> None:
    events, _ = household_events(random.Random(8), people=30, events=250)
    harness, resolver, decisions = run_both(events, matcher_settings(blocking=False))
    assert_same(harness, resolver, decisions)
    assert any(isinstance(d, Refused) and d.match_weight is not None for d in decisions)


def test_a_limit_keeps_the_emails_seen_first_whatever_the_order_as_in_the_graph() -> None:
    rng = random.Random(2)
    observations = [person_identifiers(rng.randrange(6), rng.sample(range(5), rng.randint(1, 2)), rng.random() < 0.3)
                    for _ in range(120)]
    events = [observed(ids, minutes=rng.randrange(10_000)) for ids in observations]  # event time != arrival
    harness, resolver, decisions = run_both(events, settings(max_per_customer={"EMAIL": MAX_EMAILS}))
    assert_same(harness, resolver, decisions)
    assert any(isinstance(d, Refused) and d.lineage.rule == "max-per-customer" for d in decisions)


def test_a_redelivered_event_is_decided_once() -> None:
    harness = Harness(settings())
    resolver = SingleWriterResolver(LinkPolicy(harness.config), harness.book)
    event = observed([("EMAIL", "a@x.org"), ("PHONE", "+8613900000001")])
    (send,) = [o for o in harness.intake.start(event, None) if isinstance(o, Send)]
    assert isinstance(send.message, Visit)
    first = resolver.resolve(send.node, send.message, send.message.saga.event_id)
    assert any(isinstance(d, Created) for d in first)
    assert resolver.resolve(send.node, send.message, send.message.saga.event_id) == []

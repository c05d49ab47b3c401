"""Releases read back from their announcements and placed among the input records (``processors.replay.releases``)."""

from __future__ import annotations

from processors.identity.graph.state import IdentifierState
from processors.replay import Replayed
from processors.replay.releases import Release, announced_releases, apply_release, in_turn
from tests.processors.identity.support import Harness, observed
from tests.processors.verify.support import INPUT, customer_event

PHONE = {"type": "PHONE", "value": "+33699887701"}


def refused(event_id: str, offset: int, *, evicted: bool = True, rule: str = "manual-release") -> Replayed:
    return customer_event("LinkRefused", "cus_carol", event_id, offset, identifier=PHONE, customer_id="cus_carol",
                          evicted=evicted, operator="ops-1",
                          lineage={"triggering_event_id": f"cmd-{event_id}", "channel": "BACK_OFFICE", "rule": rule})


def test_only_effective_manual_releases_count_once_each() -> None:
    events = [refused("r1", 5), refused("r1", 5), refused("r2", 7, evicted=False),
              refused("r3", 8, rule="max-per-customer")]
    assert announced_releases(events) == [
        Release("PHONE:+33699887701", 5, 5, "cmd-r1", "cus_carol", "ops-1", "BACK_OFFICE")]


def test_a_release_goes_after_the_records_that_reached_kafka_before_it_in_their_order() -> None:
    def at(ms: int | None, offset: int) -> Replayed:
        return Replayed(INPUT, 0, offset, None, None, timestamp_ms=ms)

    records = [at(1, 0), at(9, 1), at(3, 2), at(5, 3)]
    release = Release("PHONE:+33699887701", 5_000, 5_000, "cmd", "cus_carol", "ops-1", "BACK_OFFICE")
    assert list(in_turn(records, [])) == records
    assert list(in_turn(records, [release])) == [records[0], records[2], records[3], release, records[1]]


def test_a_release_nobody_holds_in_the_recomputation_still_forgets_what_came_before() -> None:
    """The recomputation grouped differently and nobody holds the number: its node is released all the same, so an
    event that occurred before the release no longer links it."""
    h = Harness()
    key = h.key("PHONE", "+33699887701")
    apply_release(h.local, Release(key, 10**18, 10**18, "cmd", "cus_carol", "ops", "BACK_OFFICE"))
    node = h.local.store.nodes[key]
    assert isinstance(node, IdentifierState) and node.owner is None and node.released_below is not None
    h.feed(observed([("PHONE", "+33699887701"), ("EMAIL", "carol@example.org")]), INPUT)
    assert h.customer("PHONE", "+33699887701") is None and h.customer("EMAIL", "carol@example.org") is not None


def test_a_release_in_the_recomputation_leaves_the_customer_that_holds_it_there() -> None:
    h = Harness()
    h.feed(observed([("PHONE", "+33699887701"), ("EMAIL", "carol@example.org")]), INPUT)
    key = h.key("PHONE", "+33699887701")
    assert h.customer("PHONE", "+33699887701") is not None
    apply_release(h.local, Release(key, 10**18, 10**18, "cmd", "cus_elsewhere", "ops", "BACK_OFFICE"))
    assert h.customer("PHONE", "+33699887701") is None and h.customer("EMAIL", "carol@example.org") is not None
    h.local.check_consistent()

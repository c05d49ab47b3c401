"""Broker test of #8 point 5 where a review decides: the e-mail order bench's three-event bridges
(``graph/test_customer_merge_order.py``), each on identifiers of its own, through the web adapter's mapper, on one
worker and one partition in time order and on three workers and twelve partitions shuffled. Both give the clusters
of the graph replayed in time order: the browser kept apart under review, the e-mail with the user's earliest event
(``contest.claims_on`` in a ``join`` and in an ``offer``)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from bus.serde import Event
from bus.topics import CONTACT_EVENTS, IDENTIFIERS_OBSERVED
from tests.processors.identity.broker import clusters
from tests.processors.identity.graph.test_alias import OBSERVED, segment
from tests.processors.identity.graph.test_customer_merge_order import BRIDGES
from tests.processors.identity.graph.test_shared_browser import replay
from tests.processors.identity.support import matcher_settings
from tests.processors.identity.test_agent import run_identity

pytestmark = pytest.mark.kafka


def relabelled(call: dict[str, Any], tag: str) -> dict[str, Any]:
    """``call`` with every identifier made the bridge's own (``x1`` -> ``x1-b23``, ``e0@...`` -> ``e0-b23@...``)."""
    out = dict(call)
    for field in ("anonymousId", "userId", "previousId"):
        if field in out:
            out[field] = f"{out[field]}-{tag}"
    if "traits" in out:
        local, _, domain = out["traits"]["email"].partition("@")
        out["traits"] = {"email": f"{local}-{tag}@{domain}"}
    return out


@pytest.mark.timeout(600)
async def test_review_bridges_one_worker_in_order_and_three_on_twelve_partitions_shuffled_agree(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    calls = [relabelled(call, f"b{seed}") for seed in sorted(BRIDGES) for call in BRIDGES[seed]]
    events = segment(*calls)  # the i-th call at minute i: the bridges one after the other, each in its time order
    want = replay(events, range(len(events))).local.clusters()
    assert sum(1 for group in want if len(group) == 1 and next(iter(group)).startswith("ANONYMOUS_ID:")) == len(BRIDGES)
    items: list[tuple[str, Event]] = [
        ((IDENTIFIERS_OBSERVED if topic == OBSERVED else CONTACT_EVENTS).suffix, event) for event, topic in events]
    single = await run_identity(bootstrap_servers, tmp_path / "a", items, partitions=1, workers=1,
                                identity=matcher_settings())
    shuffled = list(items)
    random.Random(8).shuffle(shuffled)
    scaled = await run_identity(bootstrap_servers, tmp_path / "b", shuffled, partitions=12, workers=3,
                                identity=matcher_settings())
    assert clusters(single) == want
    assert clusters(scaled) == want

"""State memory of the identity benchmark: bytes per identifier of the baseline, and of the graph and
profiles when ``tests.bench.identity_memory`` (the **proto** package's part-by-part measurement) is absent.

Both build the state of ``identifiers`` identifiers in process with the real handlers (every event a
contact of a person's phone and e-mail, every 10th also an account that links two people), then measure
it with tracemalloc: the graph as faust's memory store holds it (bytes keys, JSON-decoded values), the
baseline as its decider holds it (the graph's typed states, in one process).
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator

from bus.serde import Event
from processors.identity.baseline.resolver import SingleWriterResolver
from processors.identity.graph.messages.steps import Visit
from processors.identity.graph.outputs import Send
from processors.identity.rules import LinkPolicy
from tests.processors.identity.support import Harness, interaction
from tests.processors.identity.support import settings as identity_settings


def _events(identifiers: int) -> Iterator[Event]:
    for index in range(0, identifiers, 2):
        person = [("PHONE", f"+86139{index:08d}"), ("EMAIL", f"p{index}@example.org")]
        if index % 10 == 0 and index:
            person.append(("ACCOUNT", f"ACC-{index // 20}"))  # every 10th event links two people
        yield interaction(person, minutes=index % 1000)


def state_memory(identifiers: int) -> dict[str, float]:
    """Bytes of node and profile state per identifier, as the faust memory store would hold them."""
    harness = Harness(identity_settings())
    for event in _events(identifiers):
        harness.feed(event, topic="bench.contact.events.v1")
    store = harness.local.store
    nodes_json = json.dumps(store.nodes)
    profiles_json = json.dumps(store.profiles)
    counted = sum(1 for key in store.nodes if not key.startswith("cus_"))
    customers = len(store.nodes) - counted
    del harness, store
    tracemalloc.start()
    nodes = {key.encode(): value for key, value in json.loads(nodes_json).items()}
    after_nodes = tracemalloc.get_traced_memory()[0]
    profiles = {key.encode(): value for key, value in json.loads(profiles_json).items()}
    after_profiles = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del nodes, profiles
    return {"identifiers": counted, "customers": customers, "graph_bytes": after_nodes / counted,
            "profile_bytes": (after_profiles - after_nodes) / counted}


def baseline_memory(identifiers: int) -> float:
    """Bytes per identifier of the baseline decider's state (identifiers, customers, recent event ids)."""
    harness = Harness(identity_settings())
    first = [(output.node, output.message) for event in _events(identifiers)
             for output in harness.intake.start(event, None)
             if isinstance(output, Send) and isinstance(output.message, Visit)]
    tracemalloc.start()
    resolver = SingleWriterResolver(LinkPolicy(harness.config), harness.book)
    for node, message in first:
        resolver.resolve(node, message, message.saga.event_id)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return held / max(resolver.identifier_count(), 1)

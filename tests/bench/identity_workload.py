"""Synthetic input for the identity benchmark: people seen through varying sets of their identifiers."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bus.serde import Event

T0 = datetime(2025, 3, 1, tzinfo=UTC)
CHANNELS = ("WEB", "CALL_CENTER", "BRANCH")


def person_identifiers(person: int) -> list[tuple[str, str]]:
    return [("PHONE", f"+86139{person:08d}"), ("EMAIL", f"p{person}@example.org"), ("ACCOUNT", f"ACC-{person}"),
            ("DEVICE", f"dev-{person}")]


def _envelope(index: int, channel: str) -> dict[str, Any]:
    at = T0 + timedelta(seconds=index)
    return {"event_id": str(uuid.UUID(int=random.getrandbits(128), version=4)), "occurred_at": at,
            "received_at": at, "source_system": "bench", "channel": channel, "site": None,
            "correlation_id": "bench", "causation_id": None, "source_event_id": None}


def events(count: int, *, seed: int = 5) -> list[tuple[str, str, Event]]:
    """``(topic suffix, key, event)``: 1 to 3 identifiers of one person per event, a person per ~4 events."""
    rng = random.Random(seed)
    random.seed(seed)
    people = max(count // 4, 1)
    result = []
    for index in range(count):
        chosen = rng.sample(person_identifiers(rng.randrange(people)), rng.randint(1, 3))
        identifiers = [{"type": kind, "value": value} for kind, value in chosen]
        channel = CHANNELS[index % len(CHANNELS)]
        if index % 2:
            event = Event("omnibus.contact.InteractionRecorded", {
                "envelope": _envelope(index, channel), "interaction_id": f"i-{index}",
                "customer_identifiers": identifiers, "kind": "CALL", "name": "question", "outcome": "RESOLVED",
                "agent_id": None, "duration_ms": 60_000, "properties": None,
            })
            suffix = "contact.events.v1"
        else:
            event = Event("omnibus.contact.IdentifiersObserved", {
                "envelope": _envelope(index, channel), "identifiers": identifiers, "traits": None,
            })
            suffix = "identity.observed.v1"
        result.append((suffix, f"{chosen[0][0]}:{chosen[0][1]}", event))
    return result

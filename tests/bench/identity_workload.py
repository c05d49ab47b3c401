"""Synthetic input for the identity benchmark: people seen through varying sets of their identifiers.

``events``: the older mix (half IdentifiersObserved, half contacts, a person per ~4 events).
``contact_mix``: the "Done when" mix of issue #9 — contacts (InteractionRecorded) of which ``repeat``
(default 80%) repeat an identifier combination already seen, the rest are a new person's first contact
or a known person's contact bringing an identifier not seen before (a link).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bus.serde import Event

T0 = datetime(2025, 3, 1, tzinfo=UTC)
CHANNELS = ("WEB", "CALL_CENTER", "BRANCH")
CONTACTS = "contact.events.v1"


def person_identifiers(person: int) -> list[tuple[str, str]]:
    return [("PHONE", f"+86139{person:08d}"), ("EMAIL", f"p{person}@example.org"), ("ACCOUNT", f"ACC-{person}"),
            ("DEVICE", f"dev-{person}")]


def _envelope(index: int, channel: str, rng: random.Random | None = None) -> dict[str, Any]:
    at = T0 + timedelta(seconds=index)
    bits = (rng or random).getrandbits(128)
    return {"event_id": str(uuid.UUID(int=bits, version=4)), "occurred_at": at,
            "received_at": at, "source_system": "bench", "channel": channel, "site": None,
            "correlation_id": "bench", "causation_id": None, "source_event_id": None}


def _interaction(index: int, identifiers: list[tuple[str, str]], rng: random.Random | None = None) -> Event:
    channel = CHANNELS[index % len(CHANNELS)]
    return Event("omnibus.contact.InteractionRecorded", {
        "envelope": _envelope(index, channel, rng), "interaction_id": f"i-{index}",
        "customer_identifiers": [{"type": kind, "value": value} for kind, value in identifiers], "kind": "CALL",
        "name": "question", "outcome": "RESOLVED", "agent_id": None, "duration_ms": 60_000, "properties": None,
    })


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
            event = _interaction(index, chosen)
            suffix = CONTACTS
        else:
            event = Event("omnibus.contact.IdentifiersObserved", {
                "envelope": _envelope(index, channel), "identifiers": identifiers, "traits": None,
            })
            suffix = "identity.observed.v1"
        result.append((suffix, f"{chosen[0][0]}:{chosen[0][1]}", event))
    return result


def contact_mix(count: int, *, repeat: float = 0.8, seed: int = 7) -> list[tuple[str, str, Event]]:
    """``(topic suffix, key, event)``, every event a contact: ``repeat`` of them an identifier combination
    seen before (of a known person), the others a new person (1-2 identifiers) or a known person with one
    identifier more (a link). The first event is always new. Deterministic for a ``seed``."""
    rng = random.Random(seed)
    combos: list[list[tuple[str, str]]] = []  # combinations seen, each of one person
    seen: set[tuple[tuple[str, str], ...]] = set()
    known: dict[int, int] = {}  # person -> how many of their identifiers have been seen
    result = []
    for index in range(count):
        if combos and rng.random() < repeat:
            chosen = rng.choice(combos)
        elif known and rng.random() < 0.5 and any(n < 4 for n in known.values()):
            person = rng.choice([p for p, n in known.items() if n < 4]) if len(known) < 64 else rng.choice(list(known))
            if known[person] >= 4:
                person = len(known)  # a fully known person drawn: a new person instead
                known[person] = rng.randint(1, 2)
                chosen = person_identifiers(person)[:known[person]]
            else:
                known[person] += 1
                ids = person_identifiers(person)[:known[person]]
                chosen = [ids[-1], rng.choice(ids[:-1])]  # the new identifier with a known one: a link
        else:
            person = len(known)
            known[person] = rng.randint(1, 2)
            chosen = person_identifiers(person)[:known[person]]
        if tuple(chosen) not in seen:
            seen.add(tuple(chosen))
            combos.append(chosen)
        result.append((CONTACTS, f"{chosen[0][0]}:{chosen[0][1]}", _interaction(index, chosen, rng)))
    return result


def repeat_contacts(items: list[tuple[str, str, Event]], count: int, *, seed: int = 11) -> list[tuple[str, str, Event]]:
    """``count`` contacts after ``items``, each repeating an identifier combination ``items`` carried (drawn at
    random; the indices, hence times, go on from ``items``): an all-repeat input, to measure what a repeat contact
    costs apart from new and linking events. Deterministic for a ``seed``."""
    rng = random.Random(seed)
    combos = list(dict.fromkeys(tuple((i["type"], i["value"]) for i in event.value["customer_identifiers"])
                                for _, _, event in items))
    result = []
    for index in range(len(items), len(items) + count):
        chosen = list(rng.choice(combos))
        result.append((CONTACTS, f"{chosen[0][0]}:{chosen[0][1]}", _interaction(index, chosen, rng)))
    return result


def repeat_share(items: list[tuple[str, str, Event]]) -> float:
    """Share of events whose identifier combination an earlier event already carried."""
    seen: set[tuple[tuple[str, str], ...]] = set()
    repeats = 0
    for _, _, event in items:
        combo = tuple((i["type"], i["value"]) for i in event.value["customer_identifiers"])
        repeats += combo in seen
        seen.add(combo)
    return repeats / max(len(items), 1)

"""Builders shared by the identity tests: settings, a graph on the single-object codec, events."""

from __future__ import annotations

import random
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from bus.config import RegistrySettings
from bus.serde import Event, SerdeContext, build_serde
from processors.identity.config import IdentitySettings
from processors.identity.fastpath import AssignmentView
from processors.identity.graph.engine import IdentityGraph
from processors.identity.graph.local import LocalGraph
from processors.identity.intake import Intake, event_ref, ref_loader
from processors.identity.normalize import IdentifierNormalizer
from processors.identity.rules import LinkPolicy
from processors.profile.book import ProfileBook

HMAC_KEY = "test-hmac-key-0123456789"
SERIALIZER, DESERIALIZER = build_serde(RegistrySettings())
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
UNLIMITED = {k: 1000 for k in ("NATIONAL_ID", "USER_ID", "ACCOUNT", "CARD", "EMAIL", "PHONE", "DEVICE", "ANONYMOUS_ID")}


# Thresholds every weight reaches: every link merges, as before the matcher (graph mechanics tests).
MERGE_ALWAYS = {"match_merge_at": -1e9, "match_refuse_below": -1e9, "match_vetoes": (), "match_person_fields": (),
                "blocking": False}


def settings(**overrides: Any) -> IdentitySettings:
    """Settings for graph mechanics: the matcher's thresholds out of the way unless overridden."""
    return IdentitySettings(**{"hmac_key": HMAC_KEY, "default_region": "CN", **MERGE_ALWAYS, **overrides})


def matcher_settings(**overrides: Any) -> IdentitySettings:
    """The shipped defaults, matcher included."""
    return IdentitySettings(**{"hmac_key": HMAC_KEY, "default_region": "CN", **overrides})


def unlimited_settings() -> IdentitySettings:
    return settings(max_per_customer=UNLIMITED, shared_after=UNLIMITED)


# Whether a ``Harness`` made without a ``view`` takes one (the fast path as the running processor has it): set by the
# ``both_paths`` fixture (``conftest.py``), which runs a test without the fast path, then through it.
FAST_PATH: ContextVar[bool] = ContextVar("fast_path", default=False)


class Harness:
    """Intake + graph + local delivery, with events given as (channel, [(type, value), ...])."""

    def __init__(
        self, config: IdentitySettings | None = None, *, partitions: int = 1, seed: int | None = None,
        duplicates: float = 0.0, view: AssignmentView | None = None,
    ) -> None:
        """``view``: the fast path's view (``processors.identity.fastpath``), fed with the assignments
        decided before each event arrives; None sends every event the slow way (unless ``FAST_PATH``: a new view)."""
        self.config = config or settings()
        view = view if view is not None or not FAST_PATH.get() else AssignmentView()
        self.book = ProfileBook.from_registry()
        self.normalizer = IdentifierNormalizer(self.config)
        self.view = view
        self._learned = 0
        self.intake = Intake(self.normalizer, self.book, clock=lambda: 0.0, view=view)
        graph = IdentityGraph(LinkPolicy(self.config), self.book, ref_loader(DESERIALIZER),
                              dedupe_window=self.config.dedupe_window)
        rng = random.Random(seed) if seed is not None else None
        self.local = LocalGraph(graph, partitions=partitions, rng=rng, duplicates=duplicates)

    def key(self, kind: str, value: str) -> str:
        result = self.normalizer.normalize({"type": kind, "value": value})
        return result.key  # type: ignore[union-attr]

    def feed(self, event: Event, topic: str = "contact.events.v1", *, settle: bool = True) -> Event:
        raw = SERIALIZER(event, SerdeContext(topic=topic))
        if self.view is not None:
            self.view.learn_outputs(self.local.decisions[self._learned:])
            self._learned = len(self.local.decisions)
        self.local.submit(self.intake.start(event, event_ref(topic, event, raw)))
        if settle:
            self.local.run()
        return event

    def observe(self, *identifiers: tuple[str, str], channel: str = "WEB", settle: bool = True,
                event_id: str | None = None, minutes: int = 0) -> Event:
        return self.feed(observed(identifiers, channel=channel, event_id=event_id, minutes=minutes), settle=settle)

    def customer(self, kind: str, value: str) -> str | None:
        return self.local.customer_of(self.key(kind, value))

    def decisions(self, kind: type) -> list[Any]:
        return [d for d in self.local.decisions if isinstance(d, kind)]


def replayed(config: IdentitySettings, items: Any, *, partitions: int = 1, seed: int | None = None) -> Harness:
    """A harness fed ``items`` (``(event, topic)`` pairs) in that order: on one partition each settles before the
    next; on several their messages interleave (``seed``). Run to the end and checked consistent."""
    h = Harness(config, partitions=partitions, seed=seed)
    for event, topic in items:
        h.feed(event, topic, settle=partitions == 1)
    h.local.run()
    h.local.check_consistent()
    return h


def envelope(channel: str = "WEB", *, event_id: str | None = None, minutes: int = 0) -> dict[str, Any]:
    at = T0 + timedelta(minutes=minutes)
    return {
        "event_id": event_id or str(uuid.uuid4()), "occurred_at": at, "received_at": at, "source_system": "test",
        "channel": channel, "site": None, "correlation_id": str(uuid.uuid4()), "causation_id": None,
        "source_event_id": None,
    }


def ident(kind: str, value: str) -> dict[str, str]:
    return {"type": kind, "value": value}


def observed(identifiers: Any, *, channel: str = "WEB", event_id: str | None = None, minutes: int = 0) -> Event:
    return Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope(channel, event_id=event_id, minutes=minutes),
        "identifiers": [ident(k, v) for k, v in identifiers], "traits": None,
    })


def interaction(identifiers: Any, *, channel: str = "CALL_CENTER", kind: str = "CALL", name: str = "billing question",
                minutes: int = 0, interaction_id: str | None = None) -> Event:
    return Event("omnibus.contact.InteractionRecorded", {
        "envelope": envelope(channel, minutes=minutes), "interaction_id": interaction_id or uuid.uuid4().hex,
        "customer_identifiers": [ident(k, v) for k, v in identifiers], "kind": kind, "name": name,
        "outcome": "RESOLVED", "agent_id": "agent-7", "duration_ms": 120_000, "properties": None,
    })


def account_opened(account: str, identifiers: Any = (), *, tier: str = "premium", minutes: int = 0) -> Event:
    """A customer-master line: ``AccountOpened`` of ``account`` carrying the holder's ``identifiers`` too."""
    return Event("omnibus.business.AccountOpened", {
        "envelope": envelope("BUSINESS_SYSTEM", minutes=minutes), "account_number": account,
        "customer_identifiers": [ident(k, v) for k, v in identifiers], "account_type": "residential",
        "service_tier": tier, "traits_event_id": None,
    })


def product_subscribed(account: str, identifiers: Any = (), *, product: str = "FIBER-1G", minutes: int = 0) -> Event:
    return Event("omnibus.business.ProductSubscribed", {
        "envelope": envelope("BUSINESS_SYSTEM", minutes=minutes), "account_number": account,
        "customer_identifiers": [ident(k, v) for k, v in identifiers], "subscription_id": f"sub-{product}",
        "product_code": product, "product_name": "Fiber 1 Gbit/s", "effective_at": None,
    })


def national_id(first17: str) -> str:
    from processors.identity.normalize import national_id_check_char

    return first17 + national_id_check_char(first17)


GIVEN_NAMES = ("Ann", "Bob", "Chloe", "Dmitri", "Esther", "Farid", "Greta", "Hugo", "Ines", "Jules", "Karim", "Lena")
FAMILY_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard")


def person_traits(person: int, household: int) -> dict[str, str]:
    """Person ``person``'s traits: a household shares the surname and the address, not the given name."""
    return {"given_name": GIVEN_NAMES[person % len(GIVEN_NAMES)],
            "family_name": FAMILY_NAMES[household % len(FAMILY_NAMES)],
            "birth_date": f"{1950 + person}-0{1 + person % 9}-1{person % 10}",
            "address_line": f"{household} rue de la Paix", "postcode": f"750{household % 20:02d}"}


def household_events(rng: random.Random, people: int, events: int) -> tuple[list[Event], set[frozenset[str]]]:
    """IdentifiersObserved of ``people`` in households of up to three sharing a phone (and a surname and
    address), each event with the person's traits; and the expected partition of the personal
    identifiers (USER_ID, EMAIL, ACCOUNT) that appear. The matcher must refuse every household link."""
    household = {person: person // 3 for person in range(people)}
    personal = {p: [("USER_ID", f"u-{p}"), ("EMAIL", f"p{p}@example.org"), ("ACCOUNT", f"ACC-{p}")]
                for p in range(people)}
    out, seen = [], set()
    for index in range(events):
        person = rng.randrange(people)
        chosen = rng.sample(personal[person], rng.randint(1, 2))
        if rng.random() < 0.5:
            chosen.append(("PHONE", f"139{household[person]:08d}"))
        seen.update((person, kind, value) for kind, value in chosen if kind != "PHONE")
        event = observed(chosen, event_id=f"hh-{index}", minutes=index)
        out.append(Event(event.schema, {**event.value, "traits": person_traits(person, household[person])}))
    expected: dict[int, set[str]] = {}
    for person, kind, value in seen:
        expected.setdefault(person, set()).add(f"{kind}:{value.lower() if kind == 'EMAIL' else value}")
    return out, {frozenset(keys) for keys in expected.values()}


def sharing_household_events(rng: random.Random, people: int, events: int) -> tuple[list[Event], dict[str, int]]:
    """Like ``household_events``, and households also share an e-mail; one event in ten comes twice (the
    same event id). Returns the events and, per household phone and e-mail that appears, how many people
    carried it. A person's customers formed through different personal identifiers merge later (an event
    with two of them, or blocking on the same traits)."""
    household = {person: person // 3 for person in range(people)}
    out, users = [], {}
    for index in range(events):
        person = rng.randrange(people)
        chosen = rng.sample([("USER_ID", f"u-{person}"), ("EMAIL", f"p{person}@example.org"),
                             ("ACCOUNT", f"ACC-{person}")], rng.randint(1, 2))
        for kind, value, chance in (("PHONE", f"139{household[person]:08d}", 0.5),
                                    ("EMAIL", f"home{household[person]}@example.org", 0.3)):
            if rng.random() < chance:
                chosen.append((kind, value))
                users.setdefault(f"{kind}:{value}", set()).add(person)
        event = observed(chosen, event_id=f"sh-{index}", minutes=index)
        out.append(Event(event.schema, {**event.value, "traits": person_traits(person, household[person])}))
        if rng.random() < 0.1:
            out.append(out[-1])
    return out, {key: len(persons) for key, persons in users.items()}


def corrupted(rng: random.Random, events: list[Event]) -> list[Event]:
    """``events`` (with traits) as a careless form would give them: per record, 15 % without a birth date,
    10 % with a given-name typo (one letter replaced by "x"), 5 % with given and family name swapped. A
    duplicate (the same event id) stays the same record."""
    spoiled: dict[str, Event] = {}

    def spoil(event: Event) -> Event:
        traits, draw = dict(event.value["traits"]), rng.random()
        if draw < 0.15:
            traits.pop("birth_date")
        elif draw < 0.25:
            name = traits["given_name"]
            at = rng.randrange(len(name))
            traits["given_name"] = name[:at] + "x" + name[at + 1:]
        elif draw < 0.30:
            traits["given_name"], traits["family_name"] = traits["family_name"], traits["given_name"]
        return Event(event.schema, {**event.value, "traits": traits})

    return [spoiled.setdefault(event.value["envelope"]["event_id"], spoil(event)) for event in events]


def personal_identifiers(events: list[Event], shared: Any) -> set[frozenset[str]]:
    """The expected people of ``sharing_household_events``: each person's identifiers, not the ``shared``
    keys (households'); a person's number is in each of its values (``u-3``, ``p3@...``, ``ACC-3``)."""
    people: dict[str, set[str]] = {}
    for event in events:
        for identifier in event.value["identifiers"]:
            key = f"{identifier['type']}:{identifier['value']}"
            if key not in shared:
                people.setdefault("".join(c for c in identifier["value"] if c.isdigit()), set()).add(key)
    return {frozenset(keys) for keys in people.values()}


def personal_partition(owner_of: dict[str, str | None]) -> set[frozenset[str]]:
    """Identifiers other than phones grouped by their customer."""
    groups: dict[str, set[str]] = {}
    for key, owner in owner_of.items():
        if owner is not None and not key.startswith("PHONE:"):
            groups.setdefault(owner, set()).add(key)
    return {frozenset(group) for group in groups.values()}


def earliest_owners(key_of: Any, events: list[Event], expected: set[frozenset[str]],
                    shared: Any = None) -> dict[str, frozenset[str]]:
    """Each identifier two people share (the ``shared`` keys; default: the phones) with the personal
    identifiers (an ``expected`` group) of the person whose earliest event carried it: who keeps a family
    phone (``graph/claim_node.py``)."""
    owners: dict[str, frozenset[str]] = {}
    for event in sorted(events, key=lambda e: e.value["envelope"]["occurred_at"]):
        keys = [key_of(item["type"], item["value"]) for item in event.value["identifiers"]]
        person = next(group for group in expected if group & set(keys))
        for key in keys:
            if key in shared if shared is not None else key.startswith("PHONE:"):
                owners.setdefault(key, person)
    return owners


def phone_owners(harness: Harness, shared: Any = None) -> dict[str, frozenset[str] | None]:
    """Each phone node (or ``shared`` key) with the other identifiers (not phones, not ``shared``) of the
    customer that holds it (None: nobody)."""
    roots = harness.local.roots()
    owners: dict[str, frozenset[str] | None] = {}
    for key in harness.local.store.nodes:
        if key in shared if shared is not None else key.startswith("PHONE:"):
            owner = harness.local.customer_of(key)
            owners[key] = frozenset(k for k in roots[owner].members if (k not in shared if shared is not None
                                    else not k.startswith("PHONE:"))) if owner else None
    return owners


MAX_EMAILS = 2  # the limit the order-independence tests of ``max_per_customer`` use


def person_identifiers(person: int, emails: list[int], device: bool) -> list[tuple[str, str]]:
    """One event of ``person``: the user id, the e-mails numbered ``emails``, maybe the device."""
    return [("USER_ID", f"user-{person}"), *(("EMAIL", f"p{person}-{i}@x.org") for i in emails),
            *([("DEVICE", f"dev-{person}")] if device else [])]


def kept_by_rank(key_of: Any, observed: list[list[tuple[str, str]]]) -> set[frozenset[str]]:
    """Each person's identifiers with only the ``MAX_EMAILS`` e-mails seen first (event time, then key),
    event ``index`` having occurred at minute ``index``; ``key_of(type, value)`` gives the node key."""
    first_seen: dict[str, tuple[int, str]] = {}
    people: dict[str, set[str]] = {}
    for index, event in enumerate(observed):
        keys = [key_of(kind, value) for kind, value in event]
        people.setdefault(keys[0], set()).update(keys)
        for key in keys:
            first_seen.setdefault(key, (index, key))
    clusters = set()
    for keys in people.values():
        emails = sorted((key for key in keys if key.startswith("EMAIL:")), key=first_seen.__getitem__)
        clusters.add(frozenset({key for key in keys if not key.startswith("EMAIL:")} | set(emails[:MAX_EMAILS])))
    return clusters


ANCHORS = {"u": ("USER_ID", "user-{}"), "a": ("ACCOUNT", "AC-{}"), "d": ("DEVICE", "dev-{}")}


def anchored_identifiers(person: int, anchors: str, emails: list[tuple[int, int]]) -> list[tuple[str, str]]:
    """One event of ``person`` carrying the anchors named in ``anchors`` (``u`` user id, ``a`` account,
    ``d`` device: priorities above and below EMAIL) and e-mails ``(anchor index, n)``, each e-mail bound to
    one anchor of the event (so it never links anything its anchor does not: evicting it unlinks nothing).
    Customers of one person that met through different anchors merge when an event carries both."""
    names = sorted(set(anchors) & set(ANCHORS))
    ids = [(ANCHORS[name][0], ANCHORS[name][1].format(person)) for name in names]
    ids += [("EMAIL", f"p{person}{names[index % len(names)]}-{n}@x.org") for index, n in emails]
    return ids


def kept_by_rank_per_component(key_of: Any, observed: list[list[tuple[str, str]]]) -> set[frozenset[str]]:
    """The expected customers when a limit decides: the components of what was seen together through
    anchors (every identifier but e-mails), each with only the ``MAX_EMAILS`` e-mails seen first (event
    time, then key; event ``index`` occurred at minute ``index``). A web event that carried an account (a record's
    key it only claims, with no traits: ``limits.claims_only``) ranks its e-mails after every other event's."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    first_seen: dict[str, tuple[bool, int, str]] = {}
    emails_of: dict[str, set[str]] = {}
    for index, event in enumerate(observed):
        keys = [key_of(kind, value) for kind, value in event]
        anchors = [key for key in keys if not key.startswith("EMAIL:")]
        for key in anchors:
            parent[find(key)] = find(anchors[0])
        typed = any(kind == "ACCOUNT" for kind, _ in event)
        for key in keys:
            first_seen[key] = min(first_seen.get(key, (True, len(observed), key)), (typed, index, key))
            if key.startswith("EMAIL:"):
                emails_of.setdefault(anchors[0], set()).add(key)
    groups: dict[str, set[str]] = {}
    for key in list(parent):
        groups.setdefault(find(key), set()).add(key)
    clusters = set()
    for anchors in groups.values():
        emails = sorted({e for anchor in anchors for e in emails_of.get(anchor, ())}, key=first_seen.__getitem__)
        clusters.add(frozenset(anchors | set(emails[:MAX_EMAILS])))
    return clusters

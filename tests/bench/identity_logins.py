"""Benchmark: a bank's portal logins that send the userId and the registered e-mail only (no names), against the
master records of a billing export.

    PYTHONPATH=$PWD .venv/bin/python -m tests.bench.identity_logins --people 3000 --seed 8
        [--order lines-first|logins-first|interleaved|login-then-line]
        [--without-login-level]

The people of ``identity_people.py`` (households share a phone, 30 % of them also an e-mail): each has one master line
(legacy mapper: customer number, account, names, birth date, phone, e-mail) and one portal login (web mapper: an
identify with userId and e-mail; every other person a page view with the userId before it). A housemate's line carries
the shared mailbox too. Counted: logins on their own person's master record, on another person's (a wrong merge), and
apart (their own customer), with the reviews requested. ``--order``: every line then every login (time order), the
logins first, each person's line followed by that person's login, or each person's login followed by that person's
line (a housemate's login then comes between the holder's line and his own). ``--without-login-level``: the e-mail weighed at ``agree``
only (``MATCH_MU`` without EMAIL's ``login`` level, as before it existed).
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.graph.outputs import ReviewRequested
from processors.identity.matching.defaults import DEFAULT_MU
from tests.adapters.web.support import web_settings
from tests.bench.identity_people import Person, population
from tests.bus.identifiers.support import identifier_settings
from tests.processors.identity.graph.test_joint_holders import BUSINESS, OBSERVED
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

NIGHT = datetime(2026, 12, 1, 23, tzinfo=UTC)  # the export's file time; logins the next morning
TOPICS = TopicSettings()
IDENTIFIERS = identifier_settings(default_region="FR")


def master_line(person: Person, line: int) -> list[tuple[Event, str]]:
    fields = {"account_number": person.accounts[0], "account_type": "current", "service_tier": "standard",
              "customer_id": f"C-{person.pid}", "given_name": person.given, "family_name": person.family,
              "birth_date": person.birth.isoformat(), "phone": person.phone, "email": person.email}
    context = LegacyContext("core-banking", BUSINESS, identity_topic=OBSERVED, phone_region="FR",
                            identifiers=IDENTIFIERS)
    mapped = map_business(BusinessRecord("AccountOpened", fields, f"export.csv:{line}", NIGHT), context)
    return [(out.event, out.topic) for out in mapped.events]


def login(mapper: SegmentMapper, person: Person, minute: int, page_view: bool) -> list[tuple[Event, str]]:
    at = NIGHT + timedelta(hours=9, minutes=minute)
    messages: list[dict[str, Any]] = [{"type": "identify", "userId": person.user_id, "messageId": f"id-{person.pid}",
                                       "traits": {"email": person.email}}]
    if page_view:
        messages.insert(0, {"type": "page", "userId": person.user_id, "messageId": f"pv-{person.pid}", "name": "Home"})
    events = []
    for message in messages:
        mapped = mapper({**message, "timestamp": at.isoformat()}, source="portal-web", received_at=at)
        events += [(out.event, out.topic.removeprefix(f"{TOPICS.prefix}.")) for out in mapped.events]
    return events


def run(people: int, seed: int, order: str, login_level: bool) -> dict[str, Any]:
    persons, _ = population(people, seed)
    mapper = SegmentMapper(web_settings(), TOPICS, IDENTIFIERS)
    own_lines = [master_line(person, line) for line, person in enumerate(persons)]
    lines = [event for events in own_lines for event in events]
    logins = [login(mapper, person, index % 600, bool(index % 2)) for index, person in enumerate(persons)]
    # Each person's line, then that person's login: a housemate's login comes after the holder's line and before
    # his own when the holder is listed first (the graph's arrival order, not the events' time order).
    interleaved = [event for line, events in zip(own_lines, logins, strict=True) for event in [*line, *events]]
    # Each person's login, then that person's line: a housemate's login comes after the holder's line and before his
    # own (the reported case: it joined the holder's record through the mailbox, one person's so far).
    login_then_line = [event for line, events in zip(own_lines, logins, strict=True) for event in [*events, *line]]
    random.Random(seed).shuffle(logins)
    portal = [event for events in logins for event in events]
    mu = {} if login_level else {"EMAIL": {k: v for k, v in DEFAULT_MU["EMAIL"].items() if k != "login"}}
    harness = Harness(settings(default_region="FR", **({"match_mu": mu} if mu else {})))
    started = time.perf_counter()
    arrivals = {"lines-first": lines + portal, "logins-first": portal + lines, "interleaved": interleaved,
                "login-then-line": login_then_line}[order]
    for event, topic in arrivals:
        harness.feed(event, topic)
    elapsed = time.perf_counter() - started
    harness.local.check_consistent()
    record_of = {root(harness, harness.customer("CUSTOMER_NUMBER", f"C-{p.pid}") or ""): p.pid for p in persons}
    mailboxes = Counter(p.email for p in persons)
    outcome: Counter[str] = Counter()
    for person in persons:
        owner = record_of.get(root(harness, harness.customer("USER_ID", person.user_id) or ""))
        kind = "own record" if owner == person.pid else "apart" if owner is None else "ANOTHER person's record"
        outcome[kind] += 1
        if mailboxes[person.email] > 1:
            outcome[f"{kind}, shared mailbox"] += 1
    return {"people": len(persons), "shared_mailbox": sum(1 for p in persons if mailboxes[p.email] > 1),
            "outcome": dict(sorted(outcome.items())), "reviews": len(harness.decisions(ReviewRequested)),
            "seconds": round(elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--order", choices=("lines-first", "logins-first", "interleaved", "login-then-line"), default="lines-first")
    parser.add_argument("--without-login-level", action="store_true")
    args = parser.parse_args()
    print(run(args.people, args.seed, args.order, not args.without_login_level))


if __name__ == "__main__":
    main()

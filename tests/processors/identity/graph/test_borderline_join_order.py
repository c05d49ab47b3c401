"""A web login, a phone-only counter visit and a call, all in one second: every arrival order (issue #8 point 5).

The shape ``omnibus verify`` failed on a fault-free deployment: per customer a web ``identify`` (user id, e-mail,
phone, ``firstName`` "N<i>" and ``lastName`` "Prueba"), a counter ``transaction`` with the phone alone and the
customer's ``given_name`` "N<i>" (refused by the adapters' name check: only ``family_name`` "Prueba" is kept) and a
Connect call from the phone, all dated the same second. Where the login arrives first, the visit and the call are
placed on its customer (no weighing): one customer. Where the visit arrives first it makes a customer of the phone, and
the login's join there is weighed (phone and family name agreeing, the given name missing on one side): a review or
apart. The recomputation ``omnibus verify`` runs reads the inputs in another order than the live processor did, so the
two disagree on a healthy deployment ("groups apart in the recomputation, merged in the table").

The join is now one person's where the customer it meets holds only identifiers the event carries and traits that all
agree with the event's (``contest.held_whole``): what the order with the event first gives. Interleaved on 3
partitions, the call first, then the login, then the visit: the login's claim of the phone was overtaken by the visit,
placed on the call's customer, and the two stayed apart; the owner now merges into the claimant where time order
would have joined them (``late_claim.py``; more of that kind in ``test_late_claim.py``).
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime

import pytest

from adapters.branch.mapper import CounterMapper
from adapters.call_center.mapper_ctr import map_ctr
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from tests.adapters.branch.support import branch_settings
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.adapters.web.support import web_settings
from tests.processors.identity.graph.test_alias import CONTACTS, OBSERVED
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness, matcher_settings

Item = tuple[Event, str]
AT = datetime(2026, 12, 5, 3, 30, 7, tzinfo=UTC)
PHONE, EMAIL, USER = "+34630001000", "c1000.run2@example.es", "u-run2-1000"
GIVEN, FAMILY = "N1000", "Prueba"
WEB, COUNTER, CALL = 0, 1, 2
INTERLEAVINGS = [(1, None), (3, None), (3, 3), (3, 7)]


def _topic(event: Event) -> str:
    return OBSERVED if event.schema.endswith("IdentifiersObserved") else CONTACTS


def web_identify(person: dict[str, str] | None = None) -> list[Item]:
    message = {"type": "identify", "userId": USER, "messageId": "run2-m-1000",
               "timestamp": AT.isoformat().replace("+00:00", "Z"),
               "traits": {"email": EMAIL, "phone": PHONE, **(person or {"firstName": GIVEN, "lastName": FAMILY})}}
    web = SegmentMapper(web_settings(), TopicSettings())
    return [(o.event, _topic(o.event)) for o in web(message, source="portal-web", received_at=AT).events]


def counter_visit(person: dict[str, str] | None = None) -> list[Item]:
    native = {"event_id": "run2-ev-1000", "kind": "transaction", "occurred_at": AT.isoformat(), "agent_id": "clerk-1",
              "identifiers": [{"type": "phone", "value": PHONE}],
              "customer": person or {"given_name": GIVEN, "family_name": FAMILY},
              "transaction": {"id": "TX-run2-1000", "type": "card-dispute", "status": "completed"}}
    mapper = CounterMapper(branch_settings(), TopicSettings())
    return [(o.event, _topic(o.event))
            for o in mapper(native, terminal_id="T-0101-01", branch_id="0101", received_at=AT).events]


def call() -> list[Item]:
    record = ctr(ContactId="c-run2-1000", CustomerEndpoint={"Address": PHONE, "Type": "TELEPHONE_NUMBER"},
                 Attributes={"disposition": "resolved"})
    native = json.loads(json.dumps(record).replace("2024-03-05T", AT.strftime("%Y-%m-%dT")))
    return [(o.event, _topic(o.event)) for o in map_ctr(native, context()).events]


def blocks(housemates: bool = False) -> list[list[Item]]:
    """The login, the visit and the call; ``housemates``: the visit is another member of the household's (another
    given name and birth date on the family phone)."""
    if housemates:
        return [web_identify({"firstName": "Pablo", "lastName": FAMILY, "birthday": "1990-07-08"}),
                counter_visit({"given_name": "Maria", "family_name": FAMILY, "birth_date": "1961-02-03"}), call()]
    return [web_identify(), counter_visit(), call()]


def replay(order: tuple[int, ...], partitions: int, seed: int | None, housemates: bool = False) -> Harness:
    """The blocks in ``order``; with ``seed``, some graph messages let through between arrivals."""
    h = Harness(matcher_settings(), partitions=partitions, seed=seed)
    rng = random.Random(seed)
    parts = blocks(housemates)
    for index in order:
        for event, topic in parts[index]:
            h.feed(event, topic=topic, settle=seed is None)
            for _ in range(rng.randint(0, 6) if seed is not None else 0):
                h.local.step()
    h.local.run()
    h.local.check_consistent()
    return h


def customers(h: Harness) -> set[str]:
    """The customers (roots) holding the login's identifiers."""
    return {root(h, c) for c in (h.customer("USER_ID", USER), h.customer("EMAIL", EMAIL),
                                 h.customer("PHONE", PHONE)) if c is not None}


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
@pytest.mark.parametrize(("partitions", "seed"), INTERLEAVINGS)
def test_the_login_the_names_visit_and_the_call_give_one_customer_in_every_order(
        order: tuple[int, ...], partitions: int, seed: int | None) -> None:
    """Every order gives the login-first answer: one customer holding the user id, the e-mail and the phone."""
    h = replay(order, partitions, seed)
    expected = replay((WEB, COUNTER, CALL), partitions, seed).local.clusters()
    assert len(customers(h)) == 1, order
    assert h.local.clusters() == expected, order


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
@pytest.mark.parametrize(("partitions", "seed"), INTERLEAVINGS)
def test_a_housemates_visit_with_another_given_name_and_birth_date_stays_apart_in_every_order(
        order: tuple[int, ...], partitions: int, seed: int | None) -> None:
    """The rule reads agreeing traits only: a ``different`` given name or birth date keeps the two people apart, as on
    main in every order: two customers, the login's holding its user id and e-mail."""
    h = replay(order, partitions, seed, housemates=True)
    assert sorted(len(c) for c in h.local.clusters()) == [1, 2], order
    assert h.customer("USER_ID", USER) is not None and h.customer("USER_ID", USER) == h.customer("EMAIL", EMAIL)

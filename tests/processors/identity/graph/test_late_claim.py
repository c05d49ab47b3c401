"""A claim an earlier event overtook (``graph/late_claim.py``): the same person's call, login and counter visit give the
customers of time order in every arrival order and interleaving (issue #8 point 5).

The kind of ``test_borderline_join_order.py``'s last interleaving, with the visit a minute before the login by event
time (so it ranks first on the phone whatever the event ids) and the call hours later: the call makes a trait-less
customer of the phone, the login joins it weighed against nothing (a review) and claims the phone, and the visit, placed
on the call's customer meanwhile, overtakes the claim. Where the visit's traits agree with the login's (the family name
alone, or given name, family name and birth date) time order joined the login to the visit's customer: one customer.
Where they tell another person (another given name, or another birth date), time order kept them apart: the phone stays
with the visit's customer, the login's customer keeps its user id and e-mail.
"""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

import pytest

from tests.processors.identity.graph.test_borderline_join_order import (
    EMAIL,
    PHONE,
    USER,
    Item,
    call,
    counter_visit,
    web_identify,
)
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness, matcher_settings

WEB, COUNTER, CALL = 0, 1, 2
TIME_ORDER = (COUNTER, WEB, CALL)
INTERLEAVINGS = [(1, None), (3, None), (3, 3), (3, 5), (3, 7), (3, 11), (3, 17)]

# (the login's traits, the visit's): one person, then two (a housemate of the family phone).
ONE = {
    "family-name": ({"lastName": "Prueba"}, {"family_name": "Prueba"}),
    "full-record": ({"firstName": "Lucia", "lastName": "Prueba", "birthday": "1990-07-08"},
                    {"given_name": "Lucia", "family_name": "Prueba", "birth_date": "1990-07-08"}),
}
TWO = {
    "another-given-name": ({"firstName": "Pablo", "lastName": "Prueba"},
                           {"given_name": "Maria", "family_name": "Prueba"}),
    "another-birth-date": ({"firstName": "Lucia", "lastName": "Prueba", "birthday": "1990-07-08"},
                           {"given_name": "Lucia", "family_name": "Prueba", "birth_date": "1961-02-03"}),
}


def _earlier(items: list[Item], by: timedelta) -> list[Item]:
    """``items`` dated ``by`` earlier (the envelope's occurred and received instants)."""
    for event, _ in items:
        envelope = event.value["envelope"]
        envelope.update(occurred_at=envelope["occurred_at"] - by, received_at=envelope["received_at"] - by)
    return items


def blocks(login: dict[str, str], visit: dict[str, str]) -> list[list[Item]]:
    """The login (at ``AT``), the visit (a minute before) and the call (hours after)."""
    return [web_identify(login), _earlier(counter_visit(visit), timedelta(minutes=1)), call()]


def replay(traits: tuple[dict[str, str], dict[str, str]], order: tuple[int, ...], partitions: int,
           seed: int | None) -> Harness:
    """The blocks in ``order``; with ``seed``, some graph messages let through between arrivals."""
    h = Harness(matcher_settings(), partitions=partitions, seed=seed)
    steps = random.Random(seed)
    parts = blocks(*traits)
    for index in order:
        for event, topic in parts[index]:
            h.feed(event, topic=topic, settle=seed is None)
            for _ in range(steps.randint(0, 6) if seed is not None else 0):
                h.local.step()
    h.local.run()
    h.local.check_consistent()
    return h


def _check(traits: tuple[dict[str, str], dict[str, str]], order: tuple[int, ...], partitions: int,
           seed: int | None) -> Harness:
    h = replay(traits, order, partitions, seed)
    assert h.local.clusters() == replay(traits, TIME_ORDER, 1, None).local.clusters(), (order, partitions, seed)
    assert h.customer("USER_ID", USER) == h.customer("EMAIL", EMAIL)
    return h


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
@pytest.mark.parametrize(("partitions", "seed"), INTERLEAVINGS)
@pytest.mark.parametrize("person", list(ONE))
def test_the_persons_visit_overtaking_the_logins_claim_joins_them_as_time_order_does(
        person: str, order: tuple[int, ...], partitions: int, seed: int | None) -> None:
    """One customer holding the user id, the e-mail and the phone, in every order."""
    h = _check(ONE[person], order, partitions, seed)
    assert root(h, h.customer("PHONE", PHONE) or "") == root(h, h.customer("USER_ID", USER) or "")
    assert len(h.local.clusters()) == 1


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
@pytest.mark.parametrize(("partitions", "seed"), INTERLEAVINGS)
@pytest.mark.parametrize("people", list(TWO))
def test_a_housemates_visit_overtaking_the_logins_claim_keeps_the_phone_as_time_order_does(
        people: str, order: tuple[int, ...], partitions: int, seed: int | None) -> None:
    """Two customers in every order: the housemate's with the phone, the login's with its user id and e-mail."""
    h = _check(TWO[people], order, partitions, seed)
    assert h.customer("PHONE", PHONE) != h.customer("USER_ID", USER)
    assert sorted(len(cluster) for cluster in h.local.clusters()) == [1, 2]

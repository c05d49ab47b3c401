"""Browsers that typed one e-mail, then a login on one of them, in every arrival order (issue #8 point 5,
``graph/late_join.py``).

Browser A types the e-mail (``{A, e}`` t1), browser B types it (``{B, e}`` t2), the user logs in on one of them with it
(``{u, A, e}`` or ``{u, B, e}`` t3). Time order joins all of it unweighed: one customer. Arriving login first, on three
partitions B's join was weighed against the login's customer before A's earlier event lowered the e-mail's rank (a
review, B apart), or A's join was and its claim took the e-mail from the login's customer after B's event had been
applied there (A apart with the e-mail). Now the weighed join is linked again once the e-mail's earliest event is
applied (``late_join.applied``), and the claim links the browser a later event brought with the e-mail
(``late_join.given``); a browser kept apart through the e-mail is proposed with the e-mail's new owner
(``seek.propose_owner``). A login earlier by event time than the second browser, or one without a browser, is
weighed in every order as in time order (guards).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.processors.identity.graph.test_alias import segment
from tests.processors.identity.graph.test_customer_merge_order import identify
from tests.processors.identity.graph.test_shared_browser import replay

E = "fam@example.org"
LOGIN: dict[str, Any] = {"type": "identify", "userId": "u-anna", "traits": {"email": E}}

# Calls in time order (minutes 0, 1, 2...).
FORMS: dict[str, list[dict[str, Any]]] = {
    "login-on-the-first": [identify(anonymousId="A", email=E), identify(anonymousId="B", email=E),
                           {**LOGIN, "anonymousId": "A"}],
    "login-on-the-second": [identify(anonymousId="A", email=E), identify(anonymousId="B", email=E),
                            {**LOGIN, "anonymousId": "B"}],
    "login-with-a-name": [identify(anonymousId="A", email=E), identify(anonymousId="B", email=E),
                          {**LOGIN, "anonymousId": "A", "traits": {"email": E, "firstName": "Anna"}}],
    "login-on-the-later-typer": [identify(anonymousId="B", email=E), identify(anonymousId="A", email=E),
                                 {**LOGIN, "anonymousId": "A"}],
}
THREE: list[dict[str, Any]] = [identify(anonymousId="A", email=E), identify(anonymousId="B", email=E),
                               identify(anonymousId="C", email=E), {**LOGIN, "anonymousId": "A"}]
THREE_ON_THE_LAST: list[dict[str, Any]] = [*THREE[:3], {**LOGIN, "anonymousId": "C"}]
# The login before the second browser by event time: time order weighs B against it (a review, B apart).
GUARDS: dict[str, list[dict[str, Any]]] = {
    "login-first": [{**LOGIN, "anonymousId": "A"}, identify(anonymousId="B", email=E),
                    identify(anonymousId="A", email=E)],
    "login-between": [identify(anonymousId="A", email=E), {**LOGIN, "anonymousId": "A"},
                      identify(anonymousId="B", email=E)],
}
LAYOUTS = ((1, None), (3, 3), (3, 5), (3, 7), (3, 11))
TWELVE = ((12, 3), (12, 5), (12, 7), (12, 11))
# A login without a browser (the e-mail alone): time order weighs it against the browsers' customer (a review).
NO_BROWSER: list[dict[str, Any]] = [identify(anonymousId="A", email=E), identify(anonymousId="B", email=E), LOGIN]


def _clusters(calls: list[dict[str, Any]], order: tuple[int, ...], partitions: int = 1,
              seed: int | None = None) -> set[frozenset[str]]:
    return replay(segment(*calls), order, partitions=partitions, seed=seed).local.clusters()


def _everything(calls: list[dict[str, Any]]) -> set[frozenset[str]]:
    """One customer of every identifier the calls carried."""
    keys = {f"ANONYMOUS_ID:{call['anonymousId']}" for call in calls if "anonymousId" in call}
    keys |= {f"USER_ID:{call['userId']}" for call in calls if "userId" in call}
    keys |= {f"EMAIL:{call['traits']['email']}" for call in calls if "traits" in call}
    return {frozenset(keys)}


@pytest.mark.parametrize(("partitions", "seed"), LAYOUTS)
@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
@pytest.mark.parametrize("name", sorted(FORMS))
def test_two_browsers_and_a_login_are_one_customer_in_every_order(
    name: str, order: tuple[int, ...], partitions: int, seed: int | None
) -> None:
    calls = FORMS[name]
    assert _clusters(calls, (0, 1, 2)) == _everything(calls)
    assert _clusters(calls, order, partitions, seed) == _everything(calls)


@pytest.mark.parametrize(("partitions", "seed"), TWELVE)
@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
@pytest.mark.parametrize("name", sorted(FORMS))
def test_on_twelve_partitions_too(name: str, order: tuple[int, ...], partitions: int, seed: int) -> None:
    calls = FORMS[name]
    assert _clusters(calls, order, partitions, seed) == _everything(calls)


THREE_CASES = [(order, partitions, seed) for order in itertools.permutations(range(4)) for partitions, seed in LAYOUTS]


@pytest.mark.parametrize(("order", "partitions", "seed"), THREE_CASES)
def test_three_browsers_and_a_login_on_the_first(order: tuple[int, ...], partitions: int, seed: int | None) -> None:
    assert _clusters(THREE, order, partitions, seed) == _everything(THREE)


@pytest.mark.parametrize(("order", "partitions", "seed"), THREE_CASES)
def test_three_browsers_and_a_login_on_the_last(order: tuple[int, ...], partitions: int, seed: int | None) -> None:
    """B's join weighed at the login's customer, then A's claim of the e-mail: C joins A's customer (late_join) and
    B, kept apart through the e-mail, is proposed with its new owner (``seek.propose_owner``)."""
    assert _clusters(THREE_ON_THE_LAST, order, partitions, seed) == _everything(THREE_ON_THE_LAST)


@pytest.mark.parametrize(("partitions", "seed"), (*LAYOUTS, *TWELVE))
@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_login_without_a_browser_stays_apart_as_in_time_order(
    order: tuple[int, ...], partitions: int, seed: int | None
) -> None:
    want = _clusters(NO_BROWSER, (0, 1, 2))
    assert len(want) == 2
    assert _clusters(NO_BROWSER, order, partitions, seed) == want


@pytest.mark.parametrize(("partitions", "seed"), LAYOUTS)
@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
@pytest.mark.parametrize("name", sorted(GUARDS))
def test_a_login_before_the_second_browser_keeps_it_apart(
    name: str, order: tuple[int, ...], partitions: int, seed: int | None
) -> None:
    calls = GUARDS[name]
    assert _clusters(calls, order, partitions, seed) == _clusters(calls, (0, 1, 2))
    assert len(_clusters(calls, (0, 1, 2))) == 2

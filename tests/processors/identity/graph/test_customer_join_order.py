"""``customer_join.on_join`` weighs a pair whichever of its two events arrives first (#8 point 4, "order must not
decide"; the e-mail order residual).

Two Segment identifies share an e-mail: A = ``{anonymousId x1, email e}`` at minute 0, B = ``{userId u, email e}`` at
minute 1. In time order, B's new user id is planned before the e-mail, so it meets A's customer as a pending
identifier and the pair is weighed (Fellegi–Sunter, +3.85 bits, no person field agrees: review, B kept apart).
Before, in the other order A met B's customer through the e-mail and its new anonymous id joined unweighed: one
customer. Now a join of an event's new identifier is weighed too when the customer holds a member planned before the
linking identifier (what the event of that member, arriving second, would have been weighed through); kept apart
with nothing to weigh but identifiers (no traits on either side), the earliest event's customer keeps the e-mail
(a claim), as in time order.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from processors.identity.graph.outputs import ReviewRequested
from tests.processors.identity.graph.test_alias import segment
from tests.processors.identity.graph.test_shared_browser import replay

E, F = "e@example.org", "f@example.org"


def identify(**fields: Any) -> dict[str, Any]:
    email = fields.pop("email")
    return {"type": "identify", **fields, "traits": {"email": email}}


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
@pytest.mark.parametrize("partitions", [1, 3])
def test_the_minimal_case_gives_the_same_customers_and_one_review_in_both_orders(
        order: tuple[int, int], partitions: int) -> None:
    events = segment(identify(anonymousId="x1", email=E), identify(userId="u", email=E))
    h = replay(events, order, partitions=partitions, seed=5 if partitions > 1 else None)
    assert h.local.clusters() == {frozenset({"ANONYMOUS_ID:x1", f"EMAIL:{E}"}), frozenset({"USER_ID:u"})}
    assert len({frozenset(r.identifiers) for r in h.decisions(ReviewRequested)}) == 1


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_with_the_login_first_the_login_keeps_the_e_mail_in_both_orders(order: tuple[int, int]) -> None:
    """The roles the other way round: the user's identify is the earlier; B's anonymous id stays apart (review)."""
    events = segment(identify(userId="u", email=E), identify(anonymousId="x1", email=E))
    h = replay(events, order)
    assert h.local.clusters() == {frozenset({"USER_ID:u", f"EMAIL:{E}"}), frozenset({"ANONYMOUS_ID:x1"})}


def test_two_browsers_with_one_e_mail_still_join_unweighed_in_both_orders() -> None:
    """No member planned before the e-mail (two anonymous ids): not weighed in either order, one customer."""
    events = segment(identify(anonymousId="xa", email=E), identify(anonymousId="xb", email=E))
    for order in ((0, 1), (1, 0)):
        h = replay(events, order)
        assert h.local.clusters() == {frozenset({"ANONYMOUS_ID:xa", "ANONYMOUS_ID:xb", f"EMAIL:{E}"})}
        assert not h.decisions(ReviewRequested)


SIDES: list[dict[str, str]] = [
    {"anonymousId": "xa"}, {"anonymousId": "xb"}, {"userId": "ua"}, {"userId": "ub"},
    {"anonymousId": "xa", "userId": "ua"}, {"anonymousId": "xb", "userId": "ub"},
    {"anonymousId": "xa", "userId": "ub"}, {"anonymousId": "xb", "userId": "ua"},
]


@pytest.mark.parametrize(("first", "second"), list(itertools.product(SIDES, repeat=2)))
def test_every_pair_of_identifies_sharing_an_e_mail_gives_the_same_customers_in_both_orders(
        first: dict[str, str], second: dict[str, str]) -> None:
    """Two identifies (anonymous id, user id or both; one or both e-mails shared): 32 of these 256 replays differed
    by order before (an anonymous id with an e-mail meeting a logged-in user's customer)."""
    for first_emails, second_emails in itertools.product(((E,), (F, E)), repeat=2):
        events = segment(identify(**first, email=first_emails[-1]), identify(**second, email=second_emails[0]))
        assert replay(events, (0, 1)).local.clusters() == replay(events, (1, 0)).local.clusters(), \
            (first, first_emails, second, second_emails)

